"""Every history length gets an answer (issue: runs that cannot trip over each other).

A shop whose orders span 1, 3, 7, 14, 28 or 60 days: below ``checks.min_history_days``
(7) the run stops in validation naming the rule, the minimum and the shop's history;
from there up it publishes a forecast from the candidates its history allows -- the
seasonal naive baseline, unpromoted, with the reason on the date's MLflow run.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import mlflow
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.config import EXPERIMENT_NAME, REGISTERED_MODEL_NAME, Settings
from forecasting.db import make_engine
from forecasting.publishing import read_published
from forecasting.registry.models import get_champion
from forecasting.registry.tracking import configure_mlflow
from forecasting.sources import load_shop
from forecasting.sources.synthetic import generate_shop
from forecasting.validation import ValidationFailedError

pytestmark = pytest.mark.integration

DAY = date(2024, 6, 30)
FAST = {  # the suite's fast configuration: 2 + 1 windows of 14 days
    "models": ("seasonal_naive", "linear", "hgb"),
    "model_params": {"linear": {"max_origins": 15}, "hgb": {"max_iter": 15, "max_origins": 15}},
}


def short_shop(days: int):
    """A synthetic shop (4 SKUs x 2 locations) whose orders span only its last ``days``
    days up to 2024-06-30 (a shop that opened then: no launch dates before it)."""
    shop = generate_shop(
        n_skus=4, n_locations=2, days=max(days, 14), end_date=DAY, seed=3, events=False
    )
    first = pd.Timestamp(DAY) - pd.Timedelta(days=days - 1)
    orders = shop.orders.loc[shop.orders["ordered_at"] >= first]
    return dataclasses.replace(
        shop,
        orders=orders,
        order_lines=shop.order_lines.loc[shop.order_lines["order_id"].isin(orders["order_id"])],
        products=shop.products.assign(launched_on=pd.NaT),
    )


def parent_run(settings: Settings):
    experiment = configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    (run,) = mlflow.search_runs(
        [experiment], "tags.`forecasting.complete` = 'true'", output_format="list"
    )
    return run


@pytest.mark.parametrize("days", [1, 3])
def test_below_the_minimum_validation_names_the_rule_the_minimum_and_the_history(
    days: int, sqlite_url: str, pipeline
) -> None:
    load_shop(make_engine(sqlite_url), short_shop(days))
    with pytest.raises(ValidationFailedError) as failure:
        pipeline(DAY, sqlite_url, **FAST)
    message = str(failure.value)
    assert "FAILED on table demand (all shards): min_history_days(min_days=7)" in message
    plural = "day" if days == 1 else "days"
    assert f"the shop has {days} {plural} of order history (first sale " in message
    rows, runs = read_published(make_engine(sqlite_url), DAY)
    assert rows.empty and runs.empty
    assert not (pipeline.data_dir / "storage" / "runs" / "ds=2024-06-30" / "features").exists()


def test_the_cli_says_so_in_words_not_a_pandas_error(
    sqlite_url: str, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reproduction: three days of orders in a fresh data folder."""
    load_shop(make_engine(sqlite_url), short_shop(3))
    data = ["--data-root", str(tmp_path / "data"), "--source-url", sqlite_url]
    code = main(["run", "--date", "2024-06-30", *data, "--models", "seasonal_naive,linear"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert err.startswith("forecasting run: error: Validation of catalogue for 2024-06-30")
    assert "min_history_days(min_days=7): observed the shop has 3 days of order history" in err


@pytest.mark.parametrize(("days", "backtested"), [(7, False), (14, False), (28, True), (60, True)])
def test_from_the_minimum_up_the_baseline_serves_with_its_reason(
    days: int, backtested: bool, sqlite_url: str, pipeline
) -> None:
    shop = short_shop(days)
    load_shop(make_engine(sqlite_url), shop)
    out = pipeline(DAY, sqlite_url, **FAST)

    rows, runs = read_published(make_engine(sqlite_url), DAY)
    assert len(rows) == out["publish"]["rows"] > 0 and len(runs) == 1
    assert rows["target_date"].astype(str).min() == "2024-07-01"
    assert ((rows["p10"] <= rows["p50"]) & (rows["p50"] <= rows["p90"])).all()
    register = out["register"]
    assert register["version"] == "1" and register["promoted"] is False
    assert "the seasonal naive baseline v1 serves (not promoted)" in register["reason"]
    settings = Settings.from_env(env={}, data_dir=pipeline.data_dir)
    run = parent_run(settings)
    assert run.data.tags["candidate.name"] == "seasonal_naive"
    assert run.data.tags["training.plan"].startswith(f"{days} days of history")
    if backtested:  # windows that fit, with the candidates that fit: here only the baseline
        assert out["check"]["plan"]["models"] == ["seasonal_naive"]
        assert set(out["check"]["plan"]["skipped"]) == {"linear", "hgb"}
        assert "left out: hgb, linear" in register["reason"]
        assert "backtest_rmsse" in run.data.metrics
    else:
        assert run.data.tags["backtest.skipped"] == "true"
        assert "seasonal naive serves, not backtested" in register["reason"]
    assert get_champion(REGISTERED_MODEL_NAME) is None  # a baseline is never @champion
    version = mlflow.MlflowClient().get_model_version(REGISTERED_MODEL_NAME, "1")
    assert version.tags["serving.fallback"] == "true"


def test_one_day_is_enough_when_the_minimum_says_so(sqlite_url: str, pipeline) -> None:
    """With ``checks.min_history_days = 1`` a shop's first day gets the mean of that day,
    with Poisson intervals around it."""
    shop = short_shop(1)
    load_shop(make_engine(sqlite_url), shop)
    pipeline(DAY, sqlite_url, checks={"min_history_days": 1}, **FAST)
    rows, _ = read_published(make_engine(sqlite_url), DAY)
    lines = shop.order_lines.merge(shop.orders, on="order_id")
    lines = lines.loc[(lines["status"].str.lower() != "cancelled") & (lines["quantity"] > 0)]
    units = lines.groupby(["sku", "location_id"])["quantity"].sum()
    first = rows.loc[rows["target_date"].astype(str) == "2024-07-01"].set_index(
        ["sku", "location_id"]
    )
    assert len(first) == len(units)
    assert first["forecast"].sort_index().to_numpy() == pytest.approx(
        units.astype(float).sort_index().to_numpy()
    )
    assert (first["p10"] < first["p90"]).any()


def test_the_plan_fits_the_shard_with_the_shortest_history(sqlite_url: str, pipeline) -> None:
    """Every shard backtests the same windows on its own panel: when one shard's products
    all started selling 40 days ago (150 for the others), the plan fits those 40 days."""
    from forecasting.sharding import shard_of

    shop = short_shop(150)
    young = {s for s in shop.products["sku"] if shard_of(s, 2) == 1}
    assert young and set(shop.products["sku"]) - young
    lines = shop.order_lines.merge(shop.orders[["order_id", "ordered_at"]], on="order_id")
    recent = lines["ordered_at"] >= pd.Timestamp(DAY) - pd.Timedelta(days=39)
    keep = ~lines["sku"].isin(young) | recent
    shop = dataclasses.replace(shop, order_lines=shop.order_lines.loc[keep.to_numpy()])
    load_shop(make_engine(sqlite_url), shop)
    out = pipeline(DAY, sqlite_url, shards=2, **FAST)
    plan = out["check"]["plan"]
    assert plan["history_days"] == 40 and plan["models"] == ["seasonal_naive"]
    assert (plan["n_windows"], plan["calibration_windows"]) == (1, 0)  # 14 + 14 <= 40 < 42
    rows, _ = read_published(make_engine(sqlite_url), DAY)
    assert set(rows["sku"]) == set(shop.products["sku"])
