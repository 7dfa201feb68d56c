"""Least privilege, secrets and SQL safety, against the real MariaDB server.

* Extraction runs as a user with SELECT on the source tables only; publishing as a user
  that can write only the forecast tables (``forecasting init-db`` creates both).
* No credential sits in a tracked file; a password in a connection URL never reaches the
  logs, MLflow's params or an error message.
* Every identifier from configuration is checked against a whitelist; hostile values
  round-trip as values.
"""

from __future__ import annotations

import logging
import re
import subprocess
import uuid
from datetime import date
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import sqlalchemy as sa

from forecasting.config import EXPERIMENT_NAME, Settings
from forecasting.db import make_engine
from forecasting.publishing import PublishedRun, publish_forecasts, read_published
from forecasting.registry.tracking import configure_mlflow
from forecasting.sources import load_shop
from forecasting.sources.admin import init_database

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DAY = date(2024, 6, 30)
PASSWORD = "Pw-" + uuid.uuid4().hex[:12]


def with_user(url: str, user: str, password: str) -> str:
    return (
        sa.make_url(url).set(username=user, password=password).render_as_string(hide_password=False)
    )


@pytest.fixture()
def users(small_shop, mysql_url: str):
    """The shop loaded by an administrator, then a reader and a writer with their grants."""
    admin = make_engine(mysql_url)
    load_shop(admin, small_shop)
    suffix = uuid.uuid4().hex[:6]
    reader, writer = f"fc_reader_{suffix}", f"fc_writer_{suffix}"
    planner = f"planner_{suffix}"
    init_database(
        admin,
        reader=(reader, PASSWORD),
        writer=(writer, PASSWORD),
        planner=(planner, PASSWORD),
    )
    yield tuple(with_user(mysql_url, user, PASSWORD) for user in (reader, writer, planner))
    with admin.begin() as conn:
        for user in (reader, writer, planner):
            conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'%'"))


def test_the_pipeline_runs_with_least_privilege_users(
    users, pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer, planner = users
    caplog.set_level(logging.INFO)
    out = pipeline(DAY, reader, warehouse_url=writer, models=("seasonal_naive", "linear"))
    assert out["publish"]["rows"] > 0
    assert out["publish"]["driver_rows"] > 0 and out["publish"]["suggestion_rows"] > 0

    # What each user can do, and nothing more.
    def denied():
        return pytest.raises(sa.exc.OperationalError, match="command denied")

    with denied(), make_engine(reader).begin() as conn:
        conn.execute(sa.text("DELETE FROM demand_forecast"))
    with denied(), make_engine(writer).connect() as conn:
        conn.execute(sa.text("SELECT COUNT(*) FROM orders"))
    with denied(), make_engine(writer).begin() as conn:
        conn.execute(sa.text("DROP TABLE demand_forecast"))
    # The planner app's role reads the planners' tables and records decisions, nothing more.
    from forecasting.app.queries import record_decision, series_page

    suggestion = pd.read_sql("SELECT * FROM replenishment_suggestions", make_engine(planner))
    sku, location = suggestion.loc[0, "sku"], suggestion.loc[0, "location_id"]
    page = series_page(make_engine(planner), sku, location)
    assert len(page.forecast) and len(page.drivers)
    record_decision(
        make_engine(planner), DAY, sku, location, "12", "Ada Planner", "least privilege"
    )
    decided = pd.read_sql("SELECT * FROM replenishment_decisions", make_engine(writer))
    assert decided[["sku", "order_qty", "decided_by"]].values.tolist() == [
        [sku, 12.0, "Ada Planner"]
    ]
    for statement in (
        "DELETE FROM demand_forecast",
        "UPDATE replenishment_suggestions SET suggested_qty = 0",
        "DELETE FROM replenishment_decisions",
        "SELECT COUNT(*) FROM orders",
        "SELECT COUNT(*) FROM customer_propensity",
    ):
        with denied(), make_engine(planner).begin() as conn:
            conn.execute(sa.text(statement))
    with denied(), make_engine(writer).begin() as conn:  # decisions are the planners' own
        conn.execute(sa.text("DELETE FROM replenishment_decisions"))
    # The password never reaches the logs or MLflow's params and tags.
    assert PASSWORD not in caplog.text
    settings = Settings.from_env(env={}, data_dir=pipeline.data_dir)
    configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    for run in mlflow.search_runs(
        [mlflow.get_experiment_by_name(EXPERIMENT_NAME).experiment_id], output_format="list"
    ):
        assert PASSWORD not in repr(run.data.params) + repr(run.data.tags)


def test_wrong_passwords_and_ports_give_one_line_without_the_password(
    mysql_url: str, tmp_path: Path
) -> None:
    cli = str(Path(sys_executable()).with_name("forecasting"))
    for url in (
        with_user(mysql_url, "root", "Wrong-" + PASSWORD),
        sa.make_url(mysql_url).set(port=1, password=PASSWORD).render_as_string(hide_password=False),
    ):
        proc = subprocess.run(
            [cli, "run", "--date", "2024-06-30", "--source-url", url, "--data-root", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 1
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("forecasting run: error:")]
        # One error line (after any retry warnings), no traceback, no password anywhere.
        assert len(errors) == 1 and lines[-1] == errors[0], proc.stderr
        assert ("Traceback" not in proc.stderr and "***" in proc.stderr) or "denied" in proc.stderr
        assert PASSWORD not in proc.stderr + proc.stdout


def sys_executable() -> str:
    import sys

    return sys.executable


#: Values that stand for a password in docs, examples and redaction tests.
PLACEHOLDERS = re.compile(
    r"^(password|pass|p|secret|other|\.\.\.|\*\*\*|<[A-Z_]+>|change-me[\w-]*|"
    r"\$\{[A-Z_]+:\?[^}]*\}?|\$\$?[A-Z_]+)$"
)


def test_no_credential_in_any_tracked_file() -> None:
    """Every tracked file: URLs carry no real password, settings files no literal secret,
    and nothing looks like a cloud key or a private key."""
    files = subprocess.run(
        ["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    url_password = re.compile(r"[a-z+]+://[^:/\s'\"@]+:([^@/\s'\"]+)@")
    setting = re.compile(r"(?im)^\s*[\w.-]*(PASSWORD|SECRET|TOKEN|_KEY)\s*[=:]\s*['\"]?([^\s'\"]+)")
    known = re.compile(r"AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|ghp_[0-9A-Za-z]{36}")
    found = []
    for name in files:
        path = REPO / name
        if path.suffix in (".png", ".gz", ".parquet") or not path.is_file():
            continue
        text = path.read_text(errors="ignore")
        found += [f"{name}: {m.group(0)}" for m in known.finditer(text)]
        for match in url_password.finditer(text):
            if not PLACEHOLDERS.match(match.group(1)):
                found.append(f"{name}: {match.group(0)}")
        if path.suffix not in (".py", ".md"):  # settings files: .env.example, compose, ...
            for match in setting.finditer(text):
                if not PLACEHOLDERS.match(match.group(2).rstrip(",")):
                    found.append(f"{name}: {match.group(0).strip()}")
    assert not found, found


@pytest.mark.parametrize(
    "name",
    ["fc_reader; DROP TABLE orders", "x'@'%' IDENTIFIED BY 'p", "r\u00e9ader", "a b", "`x`"],
)
def test_injection_through_configurable_names_is_refused(mysql_url: str, name: str) -> None:
    admin = make_engine(mysql_url)
    with pytest.raises(ValueError, match="not a safe SQL identifier"):
        init_database(admin, source_tables=False, reader=(name, "pw"))
    hostile_db = sa.make_url(mysql_url).set(database="test; DROP DATABASE test")
    with pytest.raises(ValueError, match="not a safe SQL identifier"):
        init_database(make_engine(hostile_db), source_tables=False, reader=("fc_ok", "pw"))
    with admin.connect() as conn:  # nothing happened
        assert conn.execute(sa.text("SELECT COUNT(*) FROM information_schema.tables")).scalar()


def test_hostile_catalogue_values_round_trip_as_values(mysql_url: str) -> None:
    engine = make_engine(mysql_url)
    skus = [
        "'; DROP TABLE demand_forecast; --",
        'quo"te',
        "semi;colon",
        "\u00fcml\u00e4ut \u2603",
        "ABC ",
    ]
    frame = pd.DataFrame(
        {
            "unique_id": [f"{s}@x" for s in skus],
            "sku": skus,
            "location_id": "x",
            "ds": pd.Timestamp("2024-07-01"),
            "forecast": 1.0,
            "p10": 0.0,
            "p50": 1.0,
            "p90": 2.0,
        }
    )
    run = PublishedRun(DAY, "demand_forecast", "1", "r", 1, len(skus), len(skus))
    publish_forecasts(engine, frame, run)
    rows, _ = read_published(engine, DAY)
    assert sorted(rows["sku"]) == sorted(skus)
