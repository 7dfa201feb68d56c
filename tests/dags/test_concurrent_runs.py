"""Two runs of one date at once (issue: runs that cannot trip over each other).

Two ``forecasting run --date 2024-06-30`` started together, and the CLI started while
``airflow dags test`` runs the same date: one run publishes, the other stops on the date's
lease in one line naming it, nothing is duplicated, storage stays consistent, and no
lease is left behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from forecasting.config import Settings
from forecasting.db import make_engine
from forecasting.leases import list_leases
from forecasting.publishing import read_published
from forecasting.sources import load_shop
from forecasting.storage import Storage

from .conftest import AIRFLOW, airflow_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY = date(2024, 6, 30)
CLI = str(Path(sys.executable).with_name("forecasting"))
#: The same light configuration for both runners (Airflow params, CLI flags).
CONF = {
    "history_days": 420,
    "horizon": 14,
    "n_windows": 2,
    "models": ["seasonal_naive", "linear"],
    "model_params": {"linear": {"max_origins": 15}},
}
FLAGS = [
    *["--history-days", "420", "--horizon", "14", "--n-windows", "2"],
    *["--models", "seasonal_naive,linear", "--model-params", json.dumps(CONF["model_params"])],
]


def cli_env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "FORECASTING_"))}
    return {**env, "FORECASTING_DATA_DIR": str(data), "MLFLOW_DISABLE_TELEMETRY": "true"}


def start_cli(data: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [CLI, "run", "--date", DAY.isoformat(), *FLAGS],
        env=cli_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def consistent(settings: Settings) -> None:
    """One published result, every stage pointer sound, every lease released."""
    warehouse = make_engine(settings.warehouse_url)
    rows, runs = read_published(warehouse, DAY)
    assert len(runs) == 1 and len(rows) == 12 * CONF["horizon"]
    assert not rows.duplicated(["sku", "location_id", "target_date"]).any()
    assert Storage.from_uri(settings.storage_uri).verify(DAY) == []
    assert list_leases(warehouse) == []


def test_two_cli_runs_of_a_date_started_together(small_shop, tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings.from_env(env={"FORECASTING_DATA_DIR": str(data)})
    load_shop(make_engine(settings.source_url), small_shop)

    procs = [start_cli(data), start_cli(data)]
    outs = [p.communicate(timeout=900) for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 1], outs
    loser = outs[codes.index(1)][1].strip()
    assert "\n" not in loser and "Traceback" not in loser, loser
    assert loser.startswith(
        "forecasting run: error: demand_forecast for 2024-06-30 is already running: held by cli:"
    )
    assert "`forecasting leases release demand_forecast/2024-06-30`" in loser
    consistent(settings)


def test_the_cli_stops_while_airflow_runs_the_date(
    small_shop, airflow_home: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    settings = Settings.from_env(env={"FORECASTING_DATA_DIR": str(data)})
    load_shop(make_engine(settings.source_url), small_shop)
    airflow = subprocess.Popen(
        [AIRFLOW, "dags", "test", "demand_forecast", "2024-07-01", "-c", json.dumps(CONF)],
        env=airflow_env(airflow_home, data),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Wait until the DAG run holds the date, then start the CLI on the same date.
    warehouse = make_engine(settings.warehouse_url)
    deadline = time.monotonic() + 600
    while not any(i.holder.startswith("airflow:") for i in list_leases(warehouse)):
        assert airflow.poll() is None and time.monotonic() < deadline, "no Airflow lease"
        time.sleep(0.5)
    cli = start_cli(data)
    _, err = cli.communicate(timeout=600)
    log, _ = airflow.communicate(timeout=900)

    assert cli.returncode == 1 and "Traceback" not in err, err
    assert err.strip().startswith(
        "forecasting run: error: demand_forecast for 2024-06-30 is already running: held by "
        "airflow:demand_forecast/manual__"
    ), err
    assert airflow.returncode == 0 and "state=success" in log, log[-4000:]
    consistent(settings)
