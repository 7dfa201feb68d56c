"""Airflow fixtures: an isolated AIRFLOW_HOME with a migrated SQLite metadata DB, and a
helper that runs ``airflow dags test`` for the real DAG in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Airflow puts its plugins folder on sys.path; the tests that import the glue directly do too.
if str(REPO / "plugins") not in sys.path:
    sys.path.insert(0, str(REPO / "plugins"))
AIRFLOW = str(Path(sys.executable).with_name("airflow"))

#: Small but complete: every candidate family, two scored windows of 14 days, two shards.
FAST_CONF = {
    "history_days": 420,
    "horizon": 14,
    "n_windows": 2,
    "shards": 2,
    "models": ["seasonal_naive", "linear", "hgb", "mlp", "ensemble"],
    "model_params": {
        "linear": {"max_origins": 15},
        "hgb": {"max_iter": 15, "max_origins": 15},
        "mlp": {"epochs": 1, "hidden": [16], "max_origins": 15},
    },
}


def airflow_env(home: Path, data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "FORECASTING_", "MLFLOW_TRACKING"))
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "FORECASTING_DATA_DIR": str(data_dir),
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "GX_ANALYTICS_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_ENABLE_ONEDNN_OPTS": "0",
        }
    )
    env.update(extra or {})
    return env


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    """AIRFLOW_HOME with a migrated metadata database (shared by the session's runs)."""
    home = tmp_path_factory.mktemp("airflow_home")
    env = airflow_env(home, home / "unused")
    subprocess.run(
        [AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300
    )
    return home


@pytest.fixture()
def dags_test(airflow_home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``airflow dags test demand_forecast <logical date> -c <conf>``; returns the process.

    ``dags test`` is a manual run: its data interval is the last complete day before the
    logical date, so ``2024-07-01`` forecasts from the run day 2024-06-30.
    """

    def run(
        logical_date: str,
        data_dir: Path,
        conf: dict | None = None,
        extra_env: dict[str, str] | None = None,
        dag_id: str = "demand_forecast",
    ) -> subprocess.CompletedProcess[str]:
        env = airflow_env(airflow_home, data_dir, extra_env)
        default = FAST_CONF if dag_id == "demand_forecast" else {}
        cmd = [
            AIRFLOW,
            "dags",
            "test",
            dag_id,
            logical_date,
            "-c",
            json.dumps(conf if conf is not None else default),
        ]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, cwd=REPO)

    return run
