"""The package and the registered model outside this checkout: a plain (non-editable)
install finds its SQL, and the registered model predicts in a fresh virtualenv built
from nothing but the model's own logged requirements."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from forecasting.registry.models import register_run_model, set_champion
from forecasting.registry.pyfunc import log_forecaster
from forecasting.registry.tracking import configure_mlflow

from .test_mlflow_models import H, sharded

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def test_a_plain_install_ships_the_sql(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("forecasting-*.whl"))
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import forecasting, forecasting.db as db;"
        "print(forecasting.__file__); print(db.sql_dir());"
        "print(db.render_sql('publish/delete_demand_forecast', 'mysql'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(site)],
        check=True,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    ).stdout.splitlines()
    assert out[0].startswith(str(site)) and out[1].startswith(str(site))  # not the checkout
    assert out[2].startswith("DELETE FROM demand_forecast")


def test_the_champion_predicts_in_a_fresh_virtualenv(shop_panel, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment = configure_mlflow(uri, (tmp_path / "artifacts").as_uri(), "deploy")
    model = sharded("hgb", shop_panel)
    with mlflow.start_run(experiment_id=experiment) as run:
        model_uri = log_forecaster(model, shop_panel, H)
    version = register_run_model("deployed", run.info.run_id, model_uri, {})
    set_champion("deployed", version)
    local = Path(mlflow.artifacts.download_artifacts("models:/deployed@champion"))
    requirements = local / "requirements.txt"
    assert "forecasting" not in requirements.read_text()  # the code travels with the model

    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=True)  # no access to this environment's packages
    python = str(env_dir / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--only-binary=:all:", "-r", str(requirements)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    script = """
import json, sys
import mlflow
mlflow.set_tracking_uri(sys.argv[1])
model = mlflow.pyfunc.load_model("models:/deployed@champion")
logged = mlflow.models.Model.load("models:/deployed@champion")
frame = logged.load_input_example(sys.argv[2])
out = model.predict(frame, params=logged.load_input_example_params(sys.argv[2]))
import forecasting
print(json.dumps({"rows": len(out), "forecast": out["forecast"].round(6).tolist(),
                  "code": forecasting.__file__}))
"""
    proc = subprocess.run(
        [python, "-c", script, uri, str(local)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "MLFLOW_DISABLE_TELEMETRY": "true", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert str(tmp_path) in got["code"]  # imported from the model's own code_paths copy
    logged = mlflow.models.Model.load("models:/deployed@champion")
    want = mlflow.pyfunc.load_model("models:/deployed@champion").predict(
        logged.load_input_example(str(local)),
        params=logged.load_input_example_params(str(local)),
    )
    assert got["rows"] == len(want) > 0
    assert got["forecast"] == pd.Series(want["forecast"]).round(6).tolist()
