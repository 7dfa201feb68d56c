"""The files a newcomer relies on: compose file, pins, CI entry point, README commands."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def test_compose_file_is_valid_and_wires_the_stack() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
    services = compose["services"]
    assert {"mariadb", "postgres", "mlflow", "airflow", "airflow-init"} <= set(services)
    for name, service in services.items():
        for target in service.get("depends_on", {}):
            assert target in services, f"{name} depends on undefined {target}"
    env = services["airflow"]["environment"]
    assert env["AIRFLOW_CONN_FORECASTING_SOURCE"].startswith("mysql://")
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    if shutil.which("docker-compose") is None:
        pytest.fail(
            "docker-compose (Debian package) is needed to validate the compose file; .ci/run installs it"
        )
    subprocess.run(
        ["docker-compose", "-f", str(REPO / "docker-compose.yaml"), "config", "-q"], check=True
    )


def test_requirements_are_exact_pins() -> None:
    lines = [
        ln.split("#")[0].strip() for ln in (REPO / "requirements.txt").read_text().splitlines()
    ]
    pins = [ln for ln in lines if ln]
    assert pins and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.]*", p) for p in pins), pins


def test_ci_runs_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in readme and "make demo" in readme
    assert re.search(r"^make test$", ci, flags=re.MULTILINE)


def test_cli_help_for_every_command() -> None:
    from forecasting.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(commands) == {"seed-demo", "import", "run", "summary", "benchmark"}
    for name, sub in commands.items():
        text = sub.format_help()
        assert text.startswith(f"usage: forecasting {name}"), name
