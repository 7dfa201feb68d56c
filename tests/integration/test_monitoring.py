"""Accuracy monitoring end to end: published forecasts joined with the actuals that
arrive, late actuals rewriting the rows they touch, and a shifted demand level that makes
monitoring flag the champion and the next run retrain before the cadence would."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import urllib.parse
from datetime import date
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import sqlalchemy as sa

from forecasting.config import EXPERIMENT_NAME, REGISTERED_MODEL_NAME, MonitoringPolicy, Settings
from forecasting.db import make_engine
from forecasting.registry.models import get_version
from forecasting.registry.runs import MONITORING_EXPERIMENT_SUFFIX
from forecasting.registry.tracking import configure_mlflow
from forecasting.sources import load_shop
from forecasting.sources.synthetic import generate_shop
from forecasting.training.cadence import DECAY_TAG

from ..conftest import IN_CI

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY = date(2024, 6, 30)
FAST = {"models": ("seasonal_naive", "linear"), "monitoring": MonitoringPolicy(min_live_days=3)}


def shifted_shop(factor: float):
    """6 SKUs x 2 locations; demand after ``DAY`` multiplied by ``factor``."""
    shop = generate_shop(
        n_skus=6, n_locations=2, days=430, end_date="2024-07-10", seed=3, events=False
    )
    late = shop.orders.loc[shop.orders["ordered_at"] >= pd.Timestamp("2024-07-01"), "order_id"]
    lines = shop.order_lines.copy()
    after = lines["order_id"].isin(late)
    lines.loc[after, "quantity"] = (lines.loc[after, "quantity"] * factor).round().astype(int)
    return dataclasses.replace(shop, order_lines=lines)


def accuracy(engine: sa.Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text("SELECT * FROM forecast_accuracy"), conn)
    return frame.sort_values(["run_date", "target_date", "sku", "location_id"], ignore_index=True)


def test_accuracy_rows_follow_actuals_and_decay_triggers_a_retrain(
    pipeline, sqlite_url: str
) -> None:
    engine = make_engine(sqlite_url)
    load_shop(engine, shifted_shop(4.0))
    first = pipeline(DAY, sqlite_url, **FAST)
    assert first["check"]["decision"]["rule"] == "no_champion"
    assert first["monitor"]["rows"] == 0  # nothing published before: nothing to join

    for day in (date(2024, 7, 1), date(2024, 7, 2)):
        out = pipeline(day, sqlite_url, **FAST)
        assert out["check"]["decision"]["rule"] == "champion"
        assert not out["monitor"]["verdict"]["decayed"]  # fewer than 3 days: no verdict
    rows = accuracy(engine)
    # Target days 07-01 and 07-02: forecasts of 06-30 (lags 1, 2) and 07-01 (lag 1).
    assert len(rows) == 12 * 3
    assert set(rows["lag_days"]) == {1, 2}
    assert rows["actual"].notna().all() and set(rows["category"]) != {"unknown"}

    # A late order for a target day already joined rewrites its row, and only its row.
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO orders (order_id, customer_id, location_id, ordered_at, status) "
                "VALUES ('LATE1', 'c1', 'online', '2024-07-01 15:00:00', 'completed')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price) "
                "VALUES ('LATE1', 1, 'SKU-00001', 5, 10.0)"
            )
        )
    third = pipeline(date(2024, 7, 3), sqlite_url, **FAST)
    after = accuracy(engine)
    key = ["run_date", "target_date", "sku", "location_id"]
    merged = rows.merge(after, on=key, suffixes=("", "_new"))
    changed = merged.loc[merged["actual"] != merged["actual_new"]]
    assert len(changed) == 1  # target 07-01 of SKU-00001 online: only 06-30 forecast it
    assert (
        set(changed["sku"]) == {"SKU-00001"}
        and (changed["actual_new"] - changed["actual"] == 5).all()
    )
    assert len(after) == 12 * (3 + 3)  # target 07-03: lags 1, 2, 3

    # Three days of demand four times the usual level: the champion decayed.
    verdict = third["monitor"]["verdict"]
    assert verdict["decayed"] and "RMSSE" in verdict["reason"], verdict
    settings = Settings.from_env(env={}, data_dir=pipeline.data_dir)
    configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    assert get_version(REGISTERED_MODEL_NAME, "1").tags[DECAY_TAG] == "true"
    # The analyst sees backtest promise and live result side by side in MLflow.
    experiment = mlflow.get_experiment_by_name(EXPERIMENT_NAME + MONITORING_EXPERIMENT_SUFFIX)
    live = mlflow.search_runs([experiment.experiment_id], output_format="list")
    assert len(live) == 1 and live[0].data.tags["monitoring.version"] == "1"
    history = mlflow.MlflowClient().get_metric_history(live[0].info.run_id, "live_rmsse")
    assert len(history) == 3 and "backtest_rmsse" in live[0].data.metrics
    assert history[-1].value > 1.25 * live[0].data.metrics["backtest_rmsse"]

    # The next day retrains although the champion is only 4 days old (cadence: 7).
    fourth = pipeline(date(2024, 7, 4), sqlite_url, **FAST)
    assert fourth["check"]["decision"]["rule"] == "decay", fourth["check"]["decision"]
    assert fourth["register"]["registered_version"] == "2"

    # Re-running a monitoring day writes the same rows.
    before = accuracy(engine)
    again = pipeline(date(2024, 7, 4), sqlite_url, **FAST)
    pd.testing.assert_frame_equal(before, accuracy(engine))
    with engine.connect() as conn:
        summary = pd.read_sql(
            sa.text("SELECT * FROM forecast_accuracy_summary WHERE monitor_date = '2024-07-04'"),
            conn,
        )
    assert set(summary["dimension"]) == {"all", "lag", "category", "location"}
    overall = summary.loc[summary["dimension"] == "all"].iloc[0]
    assert overall["n_rows"] == 12 * (1 + 2 + 3 + 4) and overall["bias"] < -0.5

    # The planner report of the day renders in a real headless browser, without errors.
    report = again["report"]["uri"]
    assert report.startswith("file://") and report.endswith("report.html")
    path = Path(urllib.parse.unquote(report.removeprefix("file://")))
    assert path.exists(), report
    check_report_in_browser(path, pipeline.data_dir)


def check_report_in_browser(report: Path, folder: Path) -> None:
    """Open the report in Debian's chromium (headless): every section rendered, the page's
    script ran to its end, and the console got nothing but the report's ready message."""
    from forecasting.reporting import REPORT_SECTIONS

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if IN_CI:
            pytest.fail("chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,2400"]
    base += ["--enable-logging=stderr", "--v=0", f"--user-data-dir={folder / 'chromium'}"]
    proc = subprocess.run(
        [*base, "--dump-dom", f"file://{report}"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert 'data-ready="true"' in dom  # the sorting script ran to its last line
    for section in REPORT_SECTIONS:
        assert f'<section id="{section}">' in dom, section
    assert dom.count("<img") >= 2 and 'class="sortable"' in dom
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert any("planner report ready" in line for line in console), proc.stderr[-2000:]
    others = [line for line in console if "planner report ready" not in line]
    assert not others, others
    shot = folder / "report.png"
    subprocess.run(
        [*base, f"--screenshot={shot}", f"file://{report}"], capture_output=True, timeout=120
    )
    assert shot.exists() and shot.stat().st_size > 10_000
