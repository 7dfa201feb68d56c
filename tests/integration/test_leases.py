"""Leases in the warehouse: one holder per date, on SQLite and the real MariaDB server."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

from forecasting.db import make_engine
from forecasting.leases import (
    Lease,
    LeaseHeldError,
    LeaseLostError,
    list_leases,
    process_holder,
    release_lease,
)

pytestmark = pytest.mark.integration

KEY = "demand_forecast/2024-06-30"


@pytest.fixture(params=["sqlite", "mysql"])
def warehouse(request: pytest.FixtureRequest):
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "mysql_url")
    return make_engine(url)


def test_one_holder_at_a_time_and_the_second_is_told_who_and_since_when(warehouse) -> None:
    first = Lease(warehouse, KEY, "airflow:demand_forecast/manual__2024-07-01")
    taken = first.acquire()
    second = Lease(warehouse, KEY, "cli:host:1:abcd")
    with pytest.raises(LeaseHeldError) as failure:
        second.acquire()
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith(
        "demand_forecast for 2024-06-30 is already running: held by "
        f"airflow:demand_forecast/manual__2024-07-01 since {taken.taken_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    assert "`forecasting leases release demand_forecast/2024-06-30`" in message
    assert first.acquire().taken_at == taken.taken_at  # the same run (a retried task) again
    assert not second.release()  # a late release never frees someone else's lease
    assert [i.holder for i in list_leases(warehouse)] == [first.holder]
    assert first.release() and list_leases(warehouse) == []
    second.acquire()  # free again


def test_an_expired_lease_is_taken_over_and_its_old_holder_stops(warehouse) -> None:
    stale = Lease(warehouse, KEY, "cli:host:1:old", ttl=timedelta(seconds=1))
    stale.acquire()
    time.sleep(2.2)
    fresh = Lease(warehouse, KEY, "cli:host:2:new")
    assert fresh.acquire().holder == "cli:host:2:new"
    with pytest.raises(
        LeaseLostError, match=r"lost the lease demand_forecast/2024-06-30 \(now held"
    ):
        stale.renew()
    with pytest.raises(LeaseLostError):  # and it stays lost for every later commit
        stale.renew()
    fresh.renew()


def test_a_waiting_run_starts_when_the_holder_finishes(warehouse) -> None:
    holder = Lease(warehouse, KEY, "cli:host:1:first")
    holder.acquire()
    threading.Timer(1.5, holder.release).start()
    waiter = Lease(warehouse, KEY, "cli:host:2:second")
    assert waiter.acquire(wait=30, poll=0.2).holder == "cli:host:2:second"


def test_a_dead_cli_run_on_this_machine_does_not_block_the_date(warehouse) -> None:
    """A CLI run killed with SIGKILL never released its lease; its process is gone, so the
    next run on the same machine takes over at once instead of waiting for the expiry."""
    code = (
        "import sys; from forecasting.db import make_engine;"
        "from forecasting.leases import Lease, process_holder;"
        f"Lease(make_engine(sys.argv[1]), {KEY!r}, process_holder()).acquire()"
    )
    url = warehouse.url.render_as_string(hide_password=False)
    subprocess.run([sys.executable, "-c", code, url], check=True, timeout=120)
    (left,) = list_leases(warehouse)
    assert left.holder.startswith("cli:") and not left.expired
    assert Lease(warehouse, KEY, process_holder()).acquire().holder != left.holder


def test_the_heartbeat_keeps_a_long_run_alive(warehouse) -> None:
    lease = Lease(warehouse, KEY, "cli:host:1:long", ttl=timedelta(seconds=2))
    lease.acquire()
    with lease.kept_alive(every=0.5):
        time.sleep(3.5)  # longer than the ttl: only the heartbeat keeps it
        with pytest.raises(LeaseHeldError):
            Lease(warehouse, KEY, "cli:host:2:other").acquire()
    lease.renew()


def test_an_operator_frees_a_lease_whose_holder_is_gone(warehouse) -> None:
    Lease(warehouse, KEY, "airflow:demand_forecast/scheduled__x").acquire()
    assert release_lease(warehouse, KEY) and not release_lease(warehouse, KEY)
    assert list_leases(warehouse) == []
