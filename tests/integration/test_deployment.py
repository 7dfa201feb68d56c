"""The package, the registered model and the compose stack outside this checkout: a plain
(non-editable) install finds its SQL, the registered model predicts in a fresh virtualenv
built from nothing but the model's own logged requirements, and the compose services' commands
run with the compose file's environment and mounts (read-only where it says so)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
import sqlalchemy as sa

from forecasting.db import make_engine
from forecasting.registry.models import register_run_model, set_champion
from forecasting.registry.pyfunc import log_forecaster
from forecasting.registry.tracking import configure_mlflow

from ..test_project_files import compose_config
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


# --- The compose stack's services, run here with the compose file's environment and mounts ---


@dataclass(frozen=True)
class Mount:
    """A named volume of a compose service, as a folder on this machine."""

    host: Path
    target: str
    read_only: bool


@dataclass(frozen=True)
class Service:
    """One compose service as its container would see it: environment and mounts."""

    name: str
    spec: dict[str, Any]
    env: dict[str, str]
    mounts: tuple[Mount, ...]

    def localize(self, text: str) -> str:
        """``text`` with the container's mount targets replaced by their folders here."""
        for mount in self.mounts:
            text = text.replace(mount.target, str(mount.host))
        return text

    def run(self, argv: list[str], home: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` with the service's environment (paths localised, the virtualenv's
        commands on ``PATH``, ``AIRFLOW_HOME`` in ``home``); a read-only mount is bind-mounted
        read-only in a private mount namespace, as Docker does."""
        env = {k: self.localize(v) for k, v in self.env.items()}
        env |= {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(home),
            "AIRFLOW_HOME": str(home / "airflow"),
        }
        read_only = [m.host for m in self.mounts if m.read_only]
        if read_only:
            if shutil.which("unshare") is None:
                pytest.skip("unshare (util-linux) is needed to mount a volume read-only")
            remount = " && ".join(
                f"mount --bind {d} {d} && mount -o remount,bind,ro {d}" for d in read_only
            )
            argv = ["unshare", "-rm", "sh", "-c", f'{remount} && exec "$@"', "sh", *argv]
        return subprocess.run(argv, env=env, capture_output=True, text=True, **kwargs)


def compose_service(name: str, volumes: Path) -> Service:
    """The service ``name`` of docker-compose.yaml with .env.example's values; each named
    volume is a folder under ``volumes``, shared by the services that mount it."""
    config, errors = compose_config(REPO / ".env.example")
    assert not errors, errors
    spec = config["services"][name]
    mounts = []
    for entry in spec.get("volumes", []):
        volume, target, *mode = entry.split(":")
        (volumes / volume).mkdir(parents=True, exist_ok=True)
        mounts.append(Mount(volumes / volume, target, "ro" in mode))
    env = {k: str(v) for k, v in spec.get("environment", {}).items()}
    return Service(name, spec, env, tuple(mounts))


#: The api-server's start (the simple auth manager's ``init``) and a login, as the UI's.
_API_SERVER_AUTH = """
import sys
from airflow.api_fastapi.app import create_auth_manager
from airflow.api_fastapi.auth.managers.simple.datamodels.login import LoginBody
from airflow.api_fastapi.auth.managers.simple.services.login import SimpleAuthManagerLogin
create_auth_manager().init()
token = SimpleAuthManagerLogin.create_token(LoginBody(username="admin", password=sys.argv[1]))
print("logged in", len(token) > 0)
"""


def write_admin_password(volumes: Path, home: Path) -> str:
    """Run airflow-init's line that writes the admin's password file; return the password."""
    init = compose_service("airflow-init", volumes)
    line = next(ln for ln in init.spec["command"][0].splitlines() if "passwords.json" in ln)
    assert line.startswith("python -c ")
    proc = init.run(["bash", "-c", init.localize(line)], home)
    assert proc.returncode == 0, proc.stderr
    return init.env["AIRFLOW_ADMIN_PASSWORD"]


def test_the_api_server_starts_and_logs_in_on_the_password_file_init_writes(
    tmp_path: Path,
) -> None:
    """Airflow 3.3.2's simple auth manager opens its password file for writing ("a+" when
    the api-server starts, "r+" at each login): mounted read-only, the api-server fails its
    health check and the workers that wait on it never start."""
    password = write_admin_password(tmp_path / "volumes", tmp_path)
    api = compose_service("airflow-apiserver", tmp_path / "volumes")
    assert any(m.target == "/opt/airflow/auth" for m in api.mounts)
    proc = api.run([sys.executable, "-c", _API_SERVER_AUTH, password], tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "logged in True" in proc.stdout


def test_a_read_only_password_file_stops_the_api_server(tmp_path: Path) -> None:
    """Why the api-server mounts the auth volume read-write: the installed Airflow fails on
    a read-only one (when this starts passing, Airflow reads it only: mount it ``:ro``)."""
    password = write_admin_password(tmp_path / "volumes", tmp_path)
    api = compose_service("airflow-apiserver", tmp_path / "volumes")
    read_only = replace(
        api, mounts=tuple(replace(m, read_only=m.target == "/opt/airflow/auth") for m in api.mounts)
    )
    proc = read_only.run([sys.executable, "-c", _API_SERVER_AUTH, password], tmp_path, timeout=300)
    if "unshare failed" in proc.stderr or "mount:" in proc.stderr:
        pytest.skip(f"no private mount namespace here: {proc.stderr.strip()[-200:]}")
    assert proc.returncode != 0 and "Read-only file system" in proc.stderr, proc.stderr[-3000:]


def test_every_airflow_service_runs_an_airflow_command(tmp_path: Path) -> None:
    """Services on the image without their own entrypoint go through Airflow's, which runs
    ``airflow <command>``: each command (and each ``airflow`` health check) parses with the
    service's environment (the Celery commands exist only with the CeleryExecutor)."""
    config, _ = compose_config(REPO / ".env.example")
    commands: list[list[str]] = []
    for spec in config["services"].values():
        if spec.get("image") != "forecasting-airflow:latest" or "entrypoint" in spec:
            continue
        command = spec["command"]
        commands.append(command.split() if isinstance(command, str) else list(command))
        test = spec["healthcheck"]["test"]
        if test[0] == "CMD-SHELL" and test[1].startswith("airflow "):
            commands.append(shlex.split(test[1])[1:])
    assert ["celery", "worker"] in commands and ["api-server"] in commands, commands
    probe = (
        "import json, sys\n"
        "from airflow.cli.cli_parser import get_parser\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    print(argv, get_parser().parse_args(argv).func)\n"
    )
    worker = compose_service("airflow-worker", tmp_path / "volumes")
    proc = worker.run([sys.executable, "-c", probe, json.dumps(commands)], tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(proc.stdout.splitlines()) == len(commands)


def test_the_cli_service_runs_the_forecasting_command(tmp_path: Path, mysql_url: str) -> None:
    """``docker compose run --rm forecasting seed-demo ...`` (the README's line): the
    service's own entrypoint is the ``forecasting`` command, run here with the service's
    environment against the local MariaDB."""
    cli = compose_service("forecasting", tmp_path / "volumes")
    assert cli.spec["entrypoint"] == ["forecasting"]
    args = ["seed-demo", "--source-url", mysql_url, "--skus", "2", "--locations", "1"]
    proc = cli.run([*cli.spec["entrypoint"], *args, "--days", "60"], tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    engine = make_engine(mysql_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM orders")).scalar_one() > 0
    engine.dispose()
