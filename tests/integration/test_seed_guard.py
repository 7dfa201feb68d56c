"""The loaders never delete a shop's data (issue: runs that cannot trip over each other).

``seed-demo``, ``import`` and the scale benchmark's bulk load replace whole tables, so they
write only into a database they created (it carries the ``forecasting_demo_shop`` marker)
or one without a single row; a real shop is refused in one line and keeps every row.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from forecasting.cli import main
from forecasting.db import make_engine
from forecasting.errors import ForeignDataError
from forecasting.sources.scale import bulk_load
from forecasting.sources.shop import DEMO_MARKER_TABLE, create_source_tables

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SEED = ["seed-demo", "--skus", "2", "--locations", "1", "--days", "30"]


def _a_real_shop(url: str) -> sa.Engine:
    """The shop's schema with one order of a real customer in it."""
    engine = make_engine(url)
    create_source_tables(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO orders (order_id, customer_id, location_id, ordered_at, status) "
                "VALUES ('REAL-1', 'C-REAL', 'store-1', '2024-06-01 10:00:00', 'complete')"
            )
        )
    return engine


def _orders(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT order_id FROM orders"))]


@pytest.mark.parametrize("backend", ["sqlite", "mysql"])
def test_seed_demo_and_import_refuse_a_shop_and_leave_its_order(
    backend: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "mysql_url")
    shop = _a_real_shop(url)
    data = ["--data-root", str(tmp_path / "data"), "--source-url", url]
    for command in (
        SEED,
        ["import", "store-item-demand", "--data-dir", str(REPO.parent / "shared" / "data")],
    ):
        assert main([*command, *data]) == 1
        err = capsys.readouterr().err.strip()
        assert "\n" not in err, err  # one line
        assert err.startswith(f"forecasting {command[0]}: error: refusing to write into ")
        assert "table 'orders' holds rows that forecasting did not write" in err
        assert _orders(shop) == ["REAL-1"]
    with shop.connect() as conn:
        assert DEMO_MARKER_TABLE not in sa.inspect(conn).get_table_names()


def test_the_scale_seed_refuses_a_shop_too(mysql_url: str, tmp_path: Path) -> None:
    shop = _a_real_shop(mysql_url)
    (tmp_path / "orders.tsv").write_text("")
    with pytest.raises(ForeignDataError, match="scale-seed only fills an empty database"):
        bulk_load(shop, tmp_path)
    assert _orders(shop) == ["REAL-1"]


def test_seed_demo_claims_an_empty_database_and_replaces_only_its_own_shop(
    sqlite_url: str, tmp_path: Path
) -> None:
    """An empty database (tables may exist: `init-db` creates them) is claimed; seeding it
    again replaces the demo shop instead of stacking a second copy on it."""
    engine = make_engine(sqlite_url)
    create_source_tables(engine)  # what `forecasting init-db` leaves: tables, no rows
    data = ["--data-root", str(tmp_path / "data"), "--source-url", sqlite_url]
    assert main([*SEED, *data]) == 0
    first = len(_orders(engine))
    assert main([*SEED, *data]) == 0
    assert len(_orders(engine)) == first > 0
    with engine.connect() as conn:
        marker = conn.execute(sa.text(f"SELECT loaded_by FROM {DEMO_MARKER_TABLE}")).all()
    assert marker == [("seed-demo",)]


def test_make_demo_never_points_the_seed_at_the_configured_shop() -> None:
    """`make demo` runs on its own SQLite shop: every command it runs unsets the shop,
    warehouse, storage and MLflow settings a user may have exported."""
    env = {
        **os.environ,
        "FORECASTING_SOURCE_URL": "mysql://user@db-host:3306/shop",
        "AIRFLOW_HOME": "/somebody/else/airflow",
    }
    plan = subprocess.run(
        ["make", "-n", "demo"], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout
    commands = [
        line
        for line in plan.splitlines()
        if any(c in line for c in ("seed-demo --end", "dags test", "db migrate", "summary --date"))
        and "echo" not in line
    ]
    assert len(commands) >= 3
    for line in commands:
        assert "env -u FORECASTING_SOURCE_URL -u FORECASTING_WAREHOUSE_URL" in line, line
        assert "-u AIRFLOW_CONN_FORECASTING_SOURCE" in line, line
        assert f"AIRFLOW_HOME={REPO}/.data/airflow" in line, line  # not the user's Airflow
