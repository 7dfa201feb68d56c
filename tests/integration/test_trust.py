"""Forecasts planners can trust: the champion gate, pinned versions, errors that are not
swallowed, and bad data that never reaches the tables. Real MariaDB, real MLflow store,
real Great Expectations; the pipeline runs exactly as the CLI runs it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar

import mlflow
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from forecasting.config import EXPERIMENT_NAME, REGISTERED_MODEL_NAME, Settings
from forecasting.db import make_engine
from forecasting.errors import NoChampionError, NonRetryableError
from forecasting.features.direct import Rows
from forecasting.features.panel import Panel
from forecasting.models.base import Forecaster, Prediction
from forecasting.publishing import read_published
from forecasting.registry.models import RegistryUnavailableError, get_champion
from forecasting.registry.tracking import configure_mlflow
from forecasting.sources import load_shop
from forecasting.validation import ValidationFailedError

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY = date(2024, 6, 30)


def add_line(
    engine: sa.Engine,
    order_id: str,
    sku: str | None,
    when: str,
    quantity: int,
    location: str | None = "online",
    status: str = "completed",
    unit_price: float = 10.0,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO orders (order_id, customer_id, location_id, ordered_at, status) "
                "VALUES (:o, 'c1', :loc, :t, :s)"
            ),
            {"o": order_id, "loc": location, "t": when, "s": status},
        )
        conn.execute(
            sa.text(
                "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price) "
                "VALUES (:o, 1, :sku, :q, :p)"
            ),
            {"o": order_id, "sku": sku, "q": quantity, "p": unit_price},
        )


def champion_version(pipeline) -> str | None:
    settings = Settings.from_env(env={}, data_dir=pipeline.data_dir)
    configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    champion = get_champion(REGISTERED_MODEL_NAME)
    return champion.version if champion else None


@pytest.fixture()
def shop(small_shop, mysql_url: str) -> sa.Engine:
    engine = make_engine(mysql_url)
    load_shop(engine, small_shop)
    return engine


def test_a_million_units_is_excluded_and_the_forecast_stays_sane(shop, pipeline) -> None:
    """The reproduction: one order line of 1,000,000 units three days before the run."""
    add_line(shop, "HUGE1", "SKU-00002", "2024-06-27 12:00:00", 1_000_000)
    out = pipeline(DAY, str(shop.url))
    assert out["check"]["cleaning"]["outlier_days"] == 1
    assert out["check"]["cleaning"]["outlier_units"] == pytest.approx(1_000_000 + 0, rel=0.01)
    rows, _ = read_published(shop, DAY)
    sku = rows.loc[(rows["sku"] == "SKU-00002") & (rows["location_id"] == "online")]
    history = pd.read_sql(
        sa.text(
            "SELECT MAX(l.quantity) AS q FROM order_lines l JOIN orders o USING (order_id) "
            "WHERE l.sku = 'SKU-00002' AND o.order_id <> 'HUGE1'"
        ),
        shop,
    )["q"].iloc[0]
    assert len(sku) == 14 and sku["forecast"].max() < 10 * max(float(history), 1.0)


def test_absurd_data_is_never_promoted_just_because_it_beats_naive(shop, pipeline) -> None:
    """With the outlier rule switched off, the million-unit line stays in the data: every
    model's RMSSE explodes and the sanity ceiling stops the promotion; nothing is published."""
    add_line(shop, "HUGE1", "SKU-00002", "2024-06-27 12:00:00", 1_000_000)
    with pytest.raises(NoChampionError, match="no model version may serve 2024-06-30"):
        pipeline(DAY, str(shop.url), checks={"outlier_factor": 1e12})
    runs = mlflow.search_runs(
        [mlflow.get_experiment_by_name(EXPERIMENT_NAME).experiment_id], output_format="list"
    )
    parent = next(r for r in runs if "promotion.rule" in r.data.tags)
    assert parent.data.tags["promotion.decision"] == "not promoted"
    assert parent.data.tags["promotion.rule"] in ("sane", "beats_naive")
    assert champion_version(pipeline) is None
    rows, runs_row = read_published(shop, DAY)
    assert rows.empty and runs_row.empty


def test_a_discount_above_one_stops_validation_before_anything_trains(shop, pipeline) -> None:
    with shop.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO promotions VALUES ('BAD', 'SKU-00001', NULL, '2024-07-02', "
                "'2024-07-05', 150.00)"
            )
        )
    with pytest.raises(ValidationFailedError) as failure:
        pipeline(DAY, str(shop.url))
    message = str(failure.value)
    assert "FAILED on table future (" in message and "column=promo_discount" in message
    assert "SKU-00001" in message  # sample rows name the series
    assert champion_version(pipeline) is None and read_published(shop, DAY)[0].empty


def test_losing_months_of_orders_never_replaces_forecasts_with_nothing(shop, pipeline) -> None:
    pipeline(DAY, str(shop.url))
    before, _ = read_published(shop, DAY)
    with shop.begin() as conn:
        conn.execute(
            sa.text(
                "DELETE l FROM order_lines l JOIN orders o ON o.order_id = l.order_id "
                "WHERE o.ordered_at >= '2024-04-01'"
            )
        )
        conn.execute(sa.text("DELETE FROM orders WHERE ordered_at >= '2024-04-01'"))
    # The daily run re-reads the last week: the missing days fail the volume check...
    with pytest.raises(ValidationFailedError, match="latest_day_volume"):
        pipeline(DAY, str(shop.url))
    # ...and a full re-extraction finds no active series: never published as nothing.
    with pytest.raises(ValidationFailedError, match="series_vs_published"):
        pipeline(DAY, str(shop.url), full_refresh=True)
    after, _ = read_published(shop, DAY)
    pd.testing.assert_frame_equal(before, after)


def test_runs_are_pinned_and_the_champion_never_moves_backwards(shop, pipeline) -> None:
    url = str(shop.url)
    pipeline(date(2024, 6, 29), url)
    assert champion_version(pipeline) == "1"
    first_29, _ = read_published(shop, date(2024, 6, 29))
    out = pipeline(DAY, url, force_retrain=True)
    assert out["register"]["promoted"], out["register"]["reason"]
    assert champion_version(pipeline) == "2"
    # Why each total moved since 06-29: new data (v1 re-scored on today's inputs, by input
    # group) plus new model (v2 vs v1 on today's inputs), adding up to the change exactly.
    totals = {
        day: read_published(shop, day)[0].groupby(["sku", "location_id"])["forecast"].sum()
        for day in (date(2024, 6, 29), DAY)
    }
    changes = pd.read_sql("SELECT * FROM demand_forecast_changes", shop)
    assert set(changes["previous_run_date"].astype(str)) == {"2024-06-29"}
    assert set(changes["part"]) == {"new_data", "new_model"}
    assert {"sales_history", "model"} <= set(changes["input_group"])
    explained = changes.groupby(["sku", "location_id"])["contribution"].sum()
    moved = (totals[DAY] - totals[date(2024, 6, 29)]).reindex(explained.index)
    assert len(explained) == len(totals[DAY]) and np.allclose(explained, moved, atol=1e-6)
    assert changes.loc[changes["part"] == "new_model", "contribution"].abs().sum() > 0
    # Re-running the older date republishes its own forecasts, byte for byte, from v1.
    again = pipeline(date(2024, 6, 29), url)
    assert again["check"]["decision"]["rule"] == "same_run"
    pd.testing.assert_frame_equal(first_29, read_published(shop, date(2024, 6, 29))[0])
    assert champion_version(pipeline) == "2"
    # A backfill: trained on data up to its day, registered, never promoted.
    out = pipeline(date(2024, 6, 19), url)
    assert out["check"]["decision"]["rule"] == "backfill"
    assert not out["register"]["promoted"] and out["register"]["version"] == "3"
    assert champion_version(pipeline) == "2"
    # Seven more past dates: one forecast set each, from models that never saw their future.
    for offset in range(1, 8):
        day = date(2024, 6, 19) + timedelta(days=offset)
        out = pipeline(day, url)
        rows, run = read_published(shop, day)
        assert len(run) == 1 and len(rows) == run.loc[0, "row_count"] > 0
        served = run.loc[0, "model_version"]
        from forecasting.registry.models import get_version

        assert get_version(REGISTERED_MODEL_NAME, served).data_end <= day
    assert champion_version(pipeline) == "2"


def test_a_worse_candidate_is_rejected_and_the_champion_keeps_serving(shop, pipeline) -> None:
    url = str(shop.url)
    pipeline(DAY, url)
    assert champion_version(pipeline) == "1"
    # The same day retrained with a deliberately crippled line-up.
    out = pipeline(
        DAY,
        url,
        force_retrain=True,
        models=("seasonal_naive", "linear"),
        model_params={"linear": {"max_origins": 2, "alpha": 1e7}},
    )
    assert not out["register"]["promoted"]
    assert out["register"]["reason"].endswith("not promoted")
    assert champion_version(pipeline) == "1"
    _, run = read_published(shop, DAY)
    assert run.loc[0, "model_version"] == "1"  # the serving champion scored the day


def test_a_registry_outage_is_an_error_to_retry_not_no_champion(monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    mlflow.set_tracking_uri("http://127.0.0.1:9")  # nothing listens there
    mlflow.set_registry_uri("http://127.0.0.1:9")
    with pytest.raises(RegistryUnavailableError, match="MLflow registry unavailable") as err:
        get_champion(REGISTERED_MODEL_NAME)
    assert not isinstance(err.value, NonRetryableError)  # Airflow retries it


class NaNForecaster(Forecaster):
    """A broken model: NaN for the first series."""

    family: ClassVar[str] = "nan_test"

    def _fit(self, panel: Panel) -> None:
        self.fitted_ = True

    def _predict(self, panel: Panel, rows: Rows) -> Prediction:
        value = np.where(rows.series == 0, np.nan, 1.0)
        return Prediction(value, value * 0.5, value, value * 2.0)


def test_nan_forecasts_fail_the_run_counted_and_named(shop_panel, tmp_path) -> None:
    from forecasting.models.sharded import ShardedForecaster
    from forecasting.registry.models import register_run_model
    from forecasting.registry.pyfunc import log_forecaster
    from forecasting.scoring import BadForecastError, score_panel

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment = configure_mlflow(uri, (tmp_path / "a").as_uri(), "nan")
    model = ShardedForecaster([NaNForecaster().fit(shop_panel)], "nan")
    with mlflow.start_run(experiment_id=experiment) as run:
        model_uri = log_forecaster(model, shop_panel, 14)
    version = register_run_model("nan_model", run.info.run_id, model_uri, {})
    with pytest.raises(BadForecastError) as err:
        score_panel(shop_panel, "nan_model", version, 14, None, 10.0)
    first = shop_panel.ids["unique_id"].iloc[0]
    assert "14 NaN or infinite forecasts for 1 series" in str(err.value)
    assert first in str(err.value) and "nothing is published" in str(err.value)
