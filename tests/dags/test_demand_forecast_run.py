"""The real DAG under Airflow (``airflow dags test``) on generated data: SQLite and the
real MariaDB server, a re-run of the same date, and bad data that must stop the run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from forecasting.config import EXPERIMENT_NAME, REGISTERED_MODEL_NAME, Settings
from forecasting.db import make_engine
from forecasting.leases import list_leases
from forecasting.publishing import read_leadtime, read_published
from forecasting.registry.models import get_champion
from forecasting.registry.tracking import configure_mlflow
from forecasting.sources import load_shop

from .conftest import FAST_CONF

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LOGICAL_DATE = "2024-07-01"  # a manual run on July 1 processes the last complete day:
RUN_DAY = date(2024, 6, 30)


def ok(proc) -> None:
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert (
        "DagRun Finished" in proc.stdout + proc.stderr
        and "state=success" in proc.stdout + proc.stderr
    )


def test_daily_run_on_sqlite_and_rerun_is_idempotent(small_shop, dags_test, tmp_path: Path) -> None:
    from forecasting.sources.synthetic import generate_shop

    data = tmp_path / "data"
    settings = Settings.from_env(env={"FORECASTING_DATA_DIR": str(data)})
    # small_shop, its web event log and one planned product (launching after the run's day,
    # no orders yet).
    shop = generate_shop(
        n_skus=6, n_locations=2, days=420, end_date="2024-06-30", seed=3, planned_launches=1
    )
    pd.testing.assert_frame_equal(shop.order_lines, small_shop.order_lines)
    shop.products.loc[shop.products.index[-1], "launched_on"] = pd.Timestamp("2024-07-05")
    load_shop(make_engine(settings.source_url), shop)

    ok(dags_test(LOGICAL_DATE, data))
    rows, runs = read_published(make_engine(settings.warehouse_url), RUN_DAY)
    series = small_shop.products.shape[0] * small_shop.locations.shape[0]
    planned = shop.products.loc[~shop.products["sku"].isin(small_shop.products["sku"])]
    assert len(planned) == 1 and planned["launched_on"].iloc[0] > pd.Timestamp(RUN_DAY)
    launch = rows.loc[rows["sku"] == planned["sku"].iloc[0]]
    # Forecast at both locations from its text neighbours' launch curves, zero before launch.
    assert len(launch) == 2 * FAST_CONF["horizon"] and (launch["cold_start"] == 1).all()
    assert set(launch["model_name"]) == {"launch_curve"} and (launch["history_days"] == 0).all()
    before = pd.to_datetime(launch["target_date"]) < planned["launched_on"].iloc[0]
    assert (launch.loc[before, "forecast"] == 0).all()
    assert launch.loc[~before, "forecast"].sum() > 0
    assert len(rows) == (series + 2) * FAST_CONF["horizon"]
    assert rows["target_date"].astype(str).min() == "2024-07-01"
    assert (
        (rows["p10"] <= rows["p50"]).all()
        and (rows["p50"] <= rows["p90"]).all()
        and (rows["p10"] >= 0).all()
    )
    assert not rows.duplicated(["sku", "location_id", "target_date"]).any()
    assert runs.loc[0, "row_count"] == len(rows) and runs.loc[0, "model_version"] == "1"

    # Everything an analyst needs is in MLflow.
    experiment = configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    parent = mlflow.search_runs(
        [experiment],
        "tags.logical_date = '2024-06-30' and tags.`forecasting.complete` = 'true'",
        output_format="list",
    )
    assert len(parent) == 1
    run = parent[0]
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id)}
    assert {
        "validation",
        "backtest_plot.png",
        "backtest_metrics.csv",
        "backtest_windows.csv",
        "plausibility.json",
    } <= artifacts
    assert run.data.tags["candidate.model_uri"].startswith("models:/")
    assert run.data.params["git_sha"] and "versions.scikit-learn" in run.data.params
    assert run.data.params["config.shards"] == "2"
    assert run.data.tags["promotion.decision"] == "promoted"
    assert run.data.tags["training.rule"] == "no_champion"
    assert run.data.metrics["backtest_rmsse"] < run.data.metrics["baseline_rmsse"]
    assert run.data.metrics["data_active_series"] == 12
    children = mlflow.search_runs(
        [experiment], f"tags.`mlflow.parentRunId` = '{run.info.run_id}'", output_format="list"
    )
    assert {c.data.tags["candidate.name"] for c in children} == {
        "seasonal_naive",
        "linear",
        "hgb",
        "mlp",
        "ensemble",
    }
    assert get_champion(REGISTERED_MODEL_NAME).version == "1"
    # Lead-time quantiles were published with the daily rows, and logged in MLflow.
    leadtime = read_leadtime(make_engine(settings.warehouse_url), RUN_DAY)
    lead_days = {d for d in (7, 14, 28) if d <= FAST_CONF["horizon"]}
    assert len(leadtime) == (series + 2) * len(lead_days) and set(leadtime["days"]) == lead_days
    levels = leadtime[["p50", "p80", "p90", "p95", "p99"]].to_numpy()
    assert (levels >= 0).all() and (levels[:, 1:] >= levels[:, :-1] - 1e-9).all()
    assert {"leadtime_calibration.json", "leadtime_coverage.csv", "report", "text"} <= artifacts
    # The text model is logged with the run; small_shop launched nothing inside a window.
    assert run.data.tags["launch_backtest"].startswith("no product first sold")
    assert f"leadtime_{max(lead_days)}d_coverage_p90" in run.data.metrics
    # The planner report was written next to the run's partitions.
    reports = list((data / "storage" / "runs" / "ds=2024-06-30" / "report").glob("*/report.html"))
    assert len(reports) == 1 and "Demand forecast report: 2024-06-30" in reports[0].read_text()
    # Every task handed over URIs on the shared storage, never a worker's folder.
    storage = data / "storage" / "runs" / "ds=2024-06-30"
    assert sorted(p.name for p in (storage / "fit").iterdir()) == ["shard=0-of-2", "shard=1-of-2"]
    # The web events reached every shard's extract as daily behaviour, and the searches of
    # the re-extracted days the search_demand table.
    behaviour = [pd.read_parquet(p) for p in (storage / "extract").rglob("behaviour.parquet")]
    assert len(behaviour) == 2 and min(b["views"].sum() for b in behaviour) > 0
    searches = pd.read_sql(
        "SELECT * FROM search_demand ORDER BY search_date, query",
        make_engine(settings.warehouse_url),
    )
    assert len(searches) > 0 and (searches["run_date"].astype(str) == "2024-06-30").all()

    # Why: every modelled series' drivers add up to its forecast in each horizon bucket.
    warehouse = make_engine(settings.warehouse_url)
    drivers = pd.read_sql("SELECT * FROM demand_forecast_drivers", warehouse)
    modelled = rows.loc[rows["cold_start"] == 0].assign(
        day=lambda r: (pd.to_datetime(r["target_date"]) - pd.Timestamp(RUN_DAY)).dt.days
    )
    modelled["horizon_bucket"] = np.where(modelled["day"] <= 7, "1-7", "8-14")
    keys = ["sku", "location_id", "horizon_bucket"]
    explained = drivers.groupby(keys)["contribution"].sum()
    forecast = modelled.groupby(keys)["forecast"].sum().reindex(explained.index)
    assert len(explained) == series * 2 and np.allclose(explained, forecast, atol=1e-6)
    assert {"reference", "sales_history", "price_promotions", "model_baseline"} <= set(
        drivers["input_group"]
    )
    # What to order: one suggestion per series with a policy and a snapshot, in packs.
    suggested = pd.read_sql("SELECT * FROM replenishment_suggestions", warehouse)
    policy = shop.replenishment_policy.set_index(["sku", "location_id"])
    assert len(suggested) == series
    joined = suggested.join(policy, on=["sku", "location_id"], rsuffix="_policy")
    ordered = joined.loc[joined["suggested_qty"] > 0]
    assert len(ordered) and (ordered["suggested_qty"] % ordered["pack_size"] == 0).all()
    assert (ordered["suggested_qty"] >= ordered["min_order_qty"]).all()
    assert (joined["order_up_to"] >= joined["demand_mean"]).all()
    # Names and daily history for the planners' pages.
    names = pd.read_sql("SELECT * FROM forecast_products", warehouse)
    assert set(names["sku"]) == set(shop.products["sku"]) and names["name"].str.len().min() > 0
    history = pd.read_sql("SELECT * FROM demand_history", warehouse)
    assert history["ds"].astype(str).max() == "2024-06-30" and len(history) > series * 90

    # Re-running the same date gives the same rows, no duplicates, no new run or version.
    ok(dags_test(LOGICAL_DATE, data))
    again, runs_again = read_published(make_engine(settings.warehouse_url), RUN_DAY)
    pd.testing.assert_frame_equal(rows, again)
    pd.testing.assert_frame_equal(
        searches,
        pd.read_sql(
            "SELECT * FROM search_demand ORDER BY search_date, query",
            make_engine(settings.warehouse_url),
        ),
    )
    assert len(runs_again) == 1
    for table, before in (
        ("demand_forecast_drivers", drivers),
        ("replenishment_suggestions", suggested),
        ("demand_history", history),
    ):
        assert len(pd.read_sql(f"SELECT * FROM {table}", warehouse)) == len(before), table
    assert (
        len(
            mlflow.search_runs(
                [experiment], "tags.logical_date = '2024-06-30'", output_format="list"
            )
        )
        == 1
    )
    assert get_champion(REGISTERED_MODEL_NAME).version == "1"
    assert list_leases(make_engine(settings.warehouse_url)) == []  # released after each run


def test_daily_run_on_mariadb(small_shop, dags_test, mysql_url: str, tmp_path: Path) -> None:
    load_shop(make_engine(mysql_url), small_shop)
    # One setting points the DAG at MySQL: the Airflow connection (here as an env var).
    proc = dags_test(
        LOGICAL_DATE, tmp_path / "data", extra_env={"AIRFLOW_CONN_FORECASTING_SOURCE": mysql_url}
    )
    ok(proc)
    rows, runs = read_published(make_engine(mysql_url), RUN_DAY)
    assert len(rows) == 12 * FAST_CONF["horizon"] and len(runs) == 1
    assert not (tmp_path / "data" / "shop.db").exists()  # nothing fell back to SQLite


def test_bad_data_stops_before_training_and_publishes_nothing(
    small_shop, dags_test, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    settings = Settings.from_env(env={"FORECASTING_DATA_DIR": str(data)})
    products = small_shop.products.copy()
    products.loc[0, "list_price"] = 0.0  # a catalog error: free product
    bad = type(small_shop)(
        products,
        *[
            getattr(small_shop, t)
            for t in ("locations", "orders", "order_lines", "promotions", "calendar_events")
        ],
    )
    load_shop(make_engine(settings.source_url), bad)

    proc = dags_test(LOGICAL_DATE, data)
    log = proc.stdout + proc.stderr
    assert "state=failed" in log
    assert "expect_column_values_to_be_between(column=price, min_value=0.0, strict_min=True)" in log
    assert "FAILED on table demand (" in log and products.loc[0, "sku"] in log  # table, rows
    rows, runs = read_published(make_engine(settings.warehouse_url), RUN_DAY)
    assert rows.empty and runs.empty
    day = data / "storage" / "runs" / "ds=2024-06-30"
    assert not (day / "features").exists() and not (day / "check").exists()  # nothing ran after
    reports = list((day / "validate").glob("shard=*/attempt=*/validation.json"))
    assert reports and any('"success": false' in r.read_text() for r in reports)
    # The failed run gave its date's lease back (the teardown ran): the next run may start.
    assert "lease demand_forecast/2024-06-30 released" in log
    assert list_leases(make_engine(settings.warehouse_url)) == []


def test_bad_dag_params_fail_the_first_task_before_any_data_is_read(
    small_shop, dags_test, tmp_path: Path
) -> None:
    """DAG params are the CLI's configuration: every candidate is built with its overrides
    in the first task, so a value out of range names the model, the parameter and the
    range, and nothing is extracted."""
    data = tmp_path / "data"
    settings = Settings.from_env(env={"FORECASTING_DATA_DIR": str(data)})
    load_shop(make_engine(settings.source_url), small_shop)
    proc = dags_test(LOGICAL_DATE, data, {**FAST_CONF, "model_params": {"hgb": {"max_iter": -5}}})
    log = proc.stdout + proc.stderr
    assert "state=failed" in log
    assert "invalid DAG params: model_params: hgb.max_iter must be an integer >= 1 (got -5)" in log
    assert "https://errors.pydantic.dev" not in log
    assert not (data / "storage" / "store").exists()  # sync_source never ran
    assert list_leases(make_engine(settings.warehouse_url)) == []
