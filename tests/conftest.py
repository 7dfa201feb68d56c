"""Shared fixtures: small generated shops, SQLite and real MariaDB databases, settings."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

MYSQL_ADMIN_URL = os.environ.get("FORECASTING_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def small_shop():
    """A seeded synthetic shop: 6 SKUs x 2 locations x 420 days ending 2024-06-30, without
    a web event log (the tests of web events generate theirs; the daily DAG test runs
    this shop with its events)."""
    from forecasting.sources.synthetic import generate_shop

    return generate_shop(
        n_skus=6, n_locations=2, days=420, end_date="2024-06-30", seed=3, events=False
    )


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shop.db'}"


@pytest.fixture()
def settings(tmp_path: Path, sqlite_url: str):
    from forecasting.config import Settings

    return Settings.from_env(env={}, data_dir=tmp_path / "data", source_url=sqlite_url)


def _mysql_admin_engine():
    from forecasting.db import make_engine

    return make_engine(MYSQL_ADMIN_URL)


@pytest.fixture(scope="session")
def mysql_server() -> str:
    """Admin URL of the real MariaDB server; fails in CI, skips elsewhere, if it is down."""
    import sqlalchemy as sa

    try:
        with _mysql_admin_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        message = f"MariaDB at {MYSQL_ADMIN_URL} is not reachable: {exc}"
        if IN_CI:
            pytest.fail(message + " (CI must run the MySQL tests)")
        pytest.skip(message)
    return MYSQL_ADMIN_URL


@pytest.fixture()
def mysql_url(mysql_server: str) -> Iterator[str]:
    """A fresh database on the real MariaDB server, dropped after the test."""
    import sqlalchemy as sa

    name = f"fc_test_{uuid.uuid4().hex[:12]}"
    admin = _mysql_admin_engine()
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    url = sa.make_url(mysql_server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture(scope="session")
def shop_panel(small_shop, tmp_path_factory):
    """The small shop extracted (SQLite) for 2024-06-30 and turned into a panel."""
    from datetime import date

    from upath import UPath

    from forecasting.db import make_engine
    from forecasting.extraction import ExtractWindow, extract_all
    from forecasting.features import Panel
    from forecasting.sources import load_shop

    folder = tmp_path_factory.mktemp("shop_panel")
    engine = make_engine(f"sqlite:///{folder / 'shop.db'}")
    load_shop(engine, small_shop)
    window = ExtractWindow.for_logical_date(date(2024, 6, 30), history_days=420, horizon=14)
    extract = extract_all(engine, window, UPath(folder / "storage"))
    return Panel.from_long(extract.history, extract.future, extract.events)


#: A quick but complete pipeline configuration for tests that run many days.
FAST_PIPELINE = {
    "history_days": 420,
    "horizon": 14,
    "n_windows": 2,
    "models": ("seasonal_naive", "linear", "hgb"),
    "model_params": {
        "linear": {"max_origins": 15},
        "hgb": {"max_iter": 15, "max_origins": 15},
    },
}


@pytest.fixture()
def pipeline(tmp_path: Path):
    """Run the whole pipeline (the CLI's code path) for a day, with this test's own MLflow
    store and storage: ``run(day, source_url, warehouse_url=None, **config)``."""
    from forecasting.config import PipelineConfig, Settings
    from forecasting.pipelines.demand.run import run_pipeline

    def run(day, source_url: str, warehouse_url: str | None = None, **overrides):
        settings = Settings.from_env(
            env={},
            data_dir=tmp_path / "data",
            source_url=source_url,
            warehouse_url=warehouse_url or source_url,
        )
        return run_pipeline(day, settings, PipelineConfig(**{**FAST_PIPELINE, **overrides}))

    run.data_dir = tmp_path / "data"  # type: ignore[attr-defined]
    return run
