"""The DAG on Airflow's distributed engine: a real scheduler, dag-processor, api-server and
two Celery workers (Redis broker, PostgreSQL metadata), triggered through the REST API.

The run must succeed with tasks on both workers, and publish exactly the rows that an
``airflow dags test`` run of the same date publishes.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from forecasting.db import make_engine
from forecasting.publishing import read_published
from forecasting.sources import load_shop

from .cluster import Cluster
from .conftest import FAST_CONF

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Deterministic candidates (no network weights), two shards so mapped tasks spread out.
CONF = {**FAST_CONF, "models": ["seasonal_naive", "linear", "hgb"], "shards": 2}
LOGICAL_DATE = "2024-07-01T00:00:00Z"
RUN_DAY = date(2024, 6, 30)


@pytest.fixture()
def services_up(mysql_server: str) -> None:
    """The metadata database and broker must be there; in CI a missing one fails the test."""
    import redis
    import sqlalchemy as sa

    from tests.conftest import IN_CI

    from .cluster import POSTGRES_ADMIN, REDIS_HOST

    try:
        engine = sa.create_engine(POSTGRES_ADMIN)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        host, port = REDIS_HOST.split(":")
        redis.Redis(host=host, port=int(port)).ping()
    except Exception as exc:  # pragma: no cover - depends on the machine
        if IN_CI:
            pytest.fail(f"PostgreSQL or Redis is down: {exc} (CI must run the Celery test)")
        pytest.skip(f"PostgreSQL or Redis is down: {exc}")


def test_celery_workers_run_the_dag_like_dags_test(
    services_up, small_shop, mysql_url: str, dags_test, tmp_path: Path
) -> None:
    load_shop(make_engine(mysql_url), small_shop)
    source = {"AIRFLOW_CONN_FORECASTING_SOURCE": mysql_url}
    cluster = Cluster(tmp_path / "home", tmp_path / "shared", source)
    try:
        cluster.start()
        cluster.wait_for_dag("demand_forecast")
        run_id = cluster.trigger("demand_forecast", LOGICAL_DATE, CONF)
        state = cluster.wait_for_run("demand_forecast", run_id)
        instances = cluster.task_instances("demand_forecast", run_id)
        assert state == "success", cluster.logs("worker1") + cluster.logs("worker2")
    finally:
        survivors = cluster.stop()
    assert survivors == []  # every process the test started is gone, children included

    # Tasks were spread over both workers (each reports its own name as hostname).
    hosts = {ti["hostname"] for ti in instances}
    assert hosts == {"worker1", "worker2"}, hosts
    mapped = [ti for ti in instances if ti["task_id"] == "backtest"]
    assert sorted(ti["map_index"] for ti in mapped) == [0, 1]
    celery_rows, celery_run = read_published(make_engine(mysql_url), RUN_DAY)
    assert len(celery_rows) == 12 * CONF["horizon"]

    # The same date under `airflow dags test` (its own MLflow store and storage) publishes
    # the same rows into the same table.
    proc = dags_test("2024-07-01", tmp_path / "dags_test", CONF, extra_env=source)
    assert proc.returncode == 0 and "state=success" in proc.stdout + proc.stderr, proc.stderr[
        -3000:
    ]
    test_rows, _ = read_published(make_engine(mysql_url), RUN_DAY)
    pd.testing.assert_frame_equal(celery_rows, test_rows)
    assert celery_run.loc[0, "series_count"] == 12
