"""Leases: one run of a pipeline date at a time, whoever starts it.

Airflow's ``max_active_runs=1`` keeps one DAG of one deployment from running a date
twice, but nothing stops ``forecasting run --date D`` while Airflow runs ``D``, two CLI
runs, or two deployments. Two runs of a date at once would race on the same stage folders
and the same published rows, so every run takes a lease on its date first:

* ``demand_forecast/<day>`` and ``customer_models/<day>``: taken by a run's first step,
  renewed at every commit (and by a heartbeat while the CLI works), released by its last
  step -- also when the run failed (the DAGs release in a teardown task). A second run of
  the same date fails at once, in one line naming the date, the holder and since when;
  the CLI can ``--wait`` for it instead.
* ``store/<store id>``: the shared demand store (one per source database, read by every
  date) has one writer at a time; a sync waits for another to finish.

Leases live in the warehouse database, table ``forecasting_leases``. Every runner (the
CLI, every Airflow worker, another deployment) already reaches it; its primary key and
transactions make "take it if nobody holds it" atomic on SQLite and MySQL alike; and its
clock is the one clock every expiry is measured on. Object storage has none of these
portably (conditional writes differ between S3, MinIO and a local folder).

A lease expires when its holder stops renewing it (a killed process): then, or at once
when the holder is a CLI process on this machine that no longer exists, another run may
take it over. A run that lost its lease stops at its next commit (:class:`LeaseLostError`)
instead of writing over the new holder's work. ``forecasting leases list`` shows what is
held; ``forecasting leases release KEY`` frees a lease whose holder is known to be gone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from forecasting.db import dialect_of, is_transient, read_frame, render_sql, retrying
from forecasting.errors import NonRetryableError
from forecasting.storage import Storage

__all__ = [
    "DEFAULT_TTL",
    "Lease",
    "LeaseHeldError",
    "LeaseInfo",
    "LeaseLostError",
    "LeaseTableMissingError",
    "begin_run",
    "end_run",
    "list_leases",
    "process_holder",
    "release_lease",
    "run_lease_key",
]

log = logging.getLogger(__name__)

#: How long a lease lasts without renewal. The CLI renews it every ``DEFAULT_TTL / 5``
#: while it works, so a killed CLI run blocks its date for at most this long.
DEFAULT_TTL = timedelta(minutes=10)


class LeaseHeldError(NonRetryableError):
    """Another run holds the lease (the message names it, and since when)."""


class LeaseLostError(NonRetryableError):
    """The run's lease expired and another run took it over: this run must stop writing."""


class LeaseTableMissingError(NonRetryableError):
    """The warehouse has no ``forecasting_leases`` and the run's user may not create it."""


@dataclass(frozen=True)
class LeaseInfo:
    """One row of ``forecasting_leases``; times are UTC (the warehouse's clock).

    Attributes:
        key: What is leased (``demand_forecast/2024-06-30``).
        holder: Who holds it (``airflow:<dag_id>/<run_id>``, ``cli:<host>:<pid>:<id>``).
        taken_at: When the holder took it.
        renewed_at: The holder's last renewal.
        expires_at: When another run may take it over unless renewed.
        expired: Whether ``expires_at`` has passed.
    """

    key: str
    holder: str
    taken_at: datetime
    renewed_at: datetime
    expires_at: datetime
    expired: bool

    def describe(self) -> str:
        """``held by X since T UTC (last renewed R, expires E)``."""
        return (
            f"held by {self.holder} since {_fmt(self.taken_at)} UTC (last renewed "
            f"{_fmt(self.renewed_at)}, {'expired' if self.expired else 'expires'} "
            f"{_fmt(self.expires_at)})"
        )


def _fmt(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def run_lease_key(pipeline: str, run_day: date) -> str:
    """The lease key of one run date of a pipeline: ``<pipeline>/<YYYY-MM-DD>``."""
    return f"{pipeline}/{run_day.isoformat()}"


#: Kinds of holder that are one process (``<kind>:<host>:<pid>:<random>``): the CLI's runs
#: and demand store syncs. A lease of such a process on this machine that no longer
#: exists is taken over at once instead of waiting for it to expire.
_PROCESS_KINDS = ("cli", "sync")


def _machine() -> str:
    """This machine as process ids see it: the host name, and the pid namespace where
    there is one (containers sharing a host name do not share pids)."""
    try:
        namespace = f"/{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}{namespace}"


def process_holder(kind: str = "cli") -> str:
    """A holder id for this process: ``<kind>:<host>[/<pid namespace>]:<pid>:<random>``."""
    if kind not in _PROCESS_KINDS:
        raise ValueError(f"kind must be one of {_PROCESS_KINDS}")
    return f"{kind}:{_machine()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _local_process_gone(holder: str) -> bool:
    """Whether ``holder`` is a process of this machine that no longer runs."""
    parts = holder.split(":")
    if len(parts) != 4 or parts[0] not in _PROCESS_KINDS or parts[1] != _machine():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


def _info(row: dict[str, Any]) -> LeaseInfo:
    def when(value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

    return LeaseInfo(
        key=str(row["lease_key"]),
        holder=str(row["holder"]),
        taken_at=when(row["taken_at"]),
        renewed_at=when(row["renewed_at"]),
        expires_at=when(row["expires_at"]),
        expired=bool(int(row["expired"])),
    )


#: Databases (URLs) already known to have ``forecasting_leases``.
_HAVE_TABLE: set[str] = set()


def _ensure_table(engine: Engine) -> None:
    """Create ``forecasting_leases`` where missing (a database the pipeline owns); a
    least-privilege writer cannot, and is told who can. Checked once per database and
    process (a lease is read at every poll while waiting)."""
    if str(engine.url) in _HAVE_TABLE:
        return
    if sa.inspect(engine).has_table("forecasting_leases"):
        _HAVE_TABLE.add(str(engine.url))
        return
    from sqlalchemy.exc import DBAPIError

    from forecasting.db import execute_script, redact_url

    try:
        with engine.begin() as conn:
            execute_script(conn, "schema/create_lease_table")
    except DBAPIError as exc:
        if is_transient(exc):
            raise
        raise LeaseTableMissingError(
            f"the table forecasting_leases is missing in {redact_url(engine.url)} and this "
            "user may not create it: an administrator runs `forecasting init-db "
            "--no-source-tables --writer-user <user>` once (it creates the table and grants "
            "the writer access)"
        ) from exc


class Lease:
    """A lease on ``key`` for ``holder`` in the warehouse's ``forecasting_leases`` table.

    Args:
        engine: The warehouse database.
        key: What to lease (see :func:`run_lease_key`).
        holder: Who takes it; the same holder may take it again (a retried task).
        ttl: How long it lasts without renewal.
    """

    def __init__(self, engine: Engine, key: str, holder: str, ttl: timedelta = DEFAULT_TTL) -> None:
        self.engine = engine
        self.key = key
        self.holder = holder
        self.ttl = ttl
        self._lost: LeaseLostError | None = None

    def __repr__(self) -> str:
        return f"Lease({self.key!r}, holder={self.holder!r})"

    def _params(self, **extra: Any) -> dict[str, Any]:
        return {
            "lease_key": self.key,
            "holder": self.holder,
            "ttl_seconds": int(self.ttl.total_seconds()),
            **extra,
        }

    def _execute(self, name: str, params: dict[str, Any]) -> int:
        def statement() -> int:
            with self.engine.begin() as conn:
                sql = sa.text(render_sql(f"leases/{name}", dialect_of(conn)))
                return int(conn.execute(sql, params).rowcount)

        return retrying(statement, f"lease {self.key}", self.engine.url)

    def current(self) -> LeaseInfo | None:
        """The lease's row as it is now, or ``None`` if nobody holds it."""

        def read() -> LeaseInfo | None:
            _ensure_table(self.engine)
            rows = read_frame(self.engine, "leases/select_lease", {"lease_key": self.key})
            return _info(rows.iloc[0].to_dict()) if len(rows) else None

        return retrying(read, f"lease {self.key}", self.engine.url)

    def _try_take(self) -> LeaseInfo | None:
        """Take the lease if it is free, expired, ours, or a dead local CLI run's."""
        for _ in range(3):  # another runner may win a race between the read and the write
            seen = self.current()
            if seen is None:
                try:
                    self._execute("insert_lease", self._params())
                except IntegrityError:
                    continue
                return self.current()
            gone = _local_process_gone(seen.holder)
            if seen.holder != self.holder and not seen.expired and not gone:
                return None
            taken = self._execute(
                "take_over_lease",
                self._params(seen_holder=seen.holder, dead_holder=1 if gone else 0),
            )
            if taken:
                if seen.holder != self.holder:
                    log.warning(
                        "lease %s taken over from %s (%s)",
                        self.key,
                        seen.holder,
                        "its process is gone" if gone else "expired",
                    )
                return self.current()
        return None

    def acquire(self, wait: float = 0.0, poll: float = 2.0) -> LeaseInfo:
        """Take the lease, waiting up to ``wait`` seconds for its holder to finish.

        Raises:
            LeaseHeldError: If another run still holds it after ``wait`` seconds.
        """
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            taken = self._try_take()
            if taken is not None:
                self._lost = None
                log.info("lease %s taken by %s", self.key, self.holder)
                return taken
            if time.monotonic() >= deadline:
                held = self.current()
                raise LeaseHeldError(self._held_message(held, wait))
            time.sleep(min(poll, max(deadline - time.monotonic(), 0.01)))

    def _held_message(self, held: LeaseInfo | None, wait: float) -> str:
        pipeline, _, day = self.key.partition("/")
        what = f"{pipeline} for {day}" if day and pipeline != "store" else self.key
        where = held.describe() if held else "held by another run"
        waited = f" after waiting {wait:g} s" if wait > 0 else ""
        return (
            f"{what} is already running{waited}: {where}; wait for it to finish, or if that "
            f"run is gone, `forecasting leases release {self.key}`"
        )

    def renew(self) -> None:
        """Extend the lease (the run's fence: called before every commit).

        Raises:
            LeaseLostError: If another run took it over (this run must stop writing).
        """
        if self._lost is not None:
            raise self._lost
        if self._execute("renew_lease", self._params()):
            return
        held = self.current()
        now = f"now {held.describe()}" if held else "nobody holds it now"
        self._lost = LeaseLostError(
            f"{self.holder} lost the lease {self.key} ({now}): this run stops without "
            "committing; the other run's results stand"
        )
        raise self._lost

    def release(self) -> bool:
        """Give the lease back if this holder still has it. Returns whether it had."""
        released = bool(self._execute("delete_lease", self._params()))
        if released:
            log.info("lease %s released by %s", self.key, self.holder)
        return released

    @contextlib.contextmanager
    def kept_alive(self, every: float | None = None) -> Iterator[Lease]:
        """Renew the lease in a background thread while the block runs.

        A renewal that finds the lease gone records it: the next :meth:`renew` (the next
        commit) raises :class:`LeaseLostError`. A database hiccup is logged and retried at
        the next beat (the lease's ``ttl`` leaves room for several).
        """
        interval = every if every is not None else self.ttl.total_seconds() / 5
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(interval):
                try:
                    self.renew()
                except LeaseLostError:
                    log.error("lease %s lost while working", self.key)
                    return
                except Exception as exc:  # the warehouse blinked: try again next beat
                    log.warning("lease %s not renewed: %s", self.key, exc)

        thread = threading.Thread(target=beat, name=f"lease {self.key}", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()

    @contextlib.contextmanager
    def held(self, wait: float = 0.0) -> Iterator[Lease]:
        """Acquire, keep alive while the block runs, release afterwards (also on errors)."""
        self.acquire(wait)
        try:
            with self.kept_alive():
                yield self
        finally:
            with contextlib.suppress(Exception):  # an expired lease is freed by expiry
                self.release()


def list_leases(engine: Engine) -> list[LeaseInfo]:
    """Every row of ``forecasting_leases``, oldest first."""
    _ensure_table(engine)
    return [_info(r) for r in read_frame(engine, "leases/select_leases", {}).to_dict("records")]


def release_lease(engine: Engine, key: str) -> bool:
    """Free ``key`` whoever holds it (an operator's step when its holder is known to be
    gone). Returns whether there was such a lease."""
    _ensure_table(engine)
    with engine.begin() as conn:
        sql = sa.text(render_sql("leases/force_delete_lease", dialect_of(conn)))
        return bool(conn.execute(sql, {"lease_key": key}).rowcount)


def begin_run(run_day: date, lease: Lease, storage: Storage, wait: float = 0.0) -> dict[str, Any]:
    """A run's first step: check the storage takes files, take the date's lease, then
    check the date's stored stages.

    A ``_COMMITTED`` pointer that names a missing or unsealed attempt (see
    :meth:`~forecasting.storage.Storage.verify`) is logged and removed: this run writes
    that stage again.

    Returns:
        ``lease`` key, ``holder``, ``taken_at`` and the ``repaired`` pointers.

    Raises:
        StorageUnavailableError: If the storage root cannot be written.
        LeaseHeldError: If another run holds the date (after ``wait`` seconds).
    """
    storage.check_writable()
    info = lease.acquire(wait)
    try:
        repaired = storage.verify(run_day, repair=True)
    except BaseException:
        end_run(lease)
        raise
    for problem in repaired:
        log.warning("storage of %s: %s", run_day, problem)
    return {
        "lease": lease.key,
        "holder": lease.holder,
        "taken_at": _fmt(info.taken_at),
        "repaired": repaired,
    }


def end_run(lease: Lease) -> dict[str, Any]:
    """A run's last step (also after a failure): give the date's lease back.

    A warehouse that cannot be reached now never hides what the run did (or the error it
    stopped with): the lease is then left to expire, and the step says so.
    """
    try:
        released = lease.release()
    except Exception as exc:  # the lease expires by itself (``ttl``)
        log.warning("lease %s not released (%s): it expires by itself", lease.key, exc)
        released = False
    return {"lease": lease.key, "released": released}
