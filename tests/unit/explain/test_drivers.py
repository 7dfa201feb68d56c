import numpy as np
import pandas as pd
import pytest

from forecasting.explain.drivers import (
    DRIVER_COLUMNS,
    bucket_of,
    bucket_totals,
    explain_forecasts,
    forecaster_predictor,
    horizon_buckets,
)
from forecasting.explain.groups import reference_level
from forecasting.features import FeatureSpec, Panel
from forecasting.models import Forecaster, make_model

from .conftest import HORIZON, PROMO_DAYS, PROMOTED, SMALL


def sums_match(drivers: pd.DataFrame, forecasts: pd.DataFrame, horizon: int) -> float:
    """Largest gap between the drivers' sum and the forecast total of a series and bucket."""
    summed = drivers.groupby(["unique_id", "horizon_bucket"], as_index=False)["contribution"].sum()
    both = summed.merge(bucket_totals(forecasts, horizon), on=["unique_id", "horizon_bucket"])
    assert len(both) == len(summed)
    return float(np.abs(both["contribution"] - both["forecast"]).max())


def test_buckets_are_clipped_to_the_horizon() -> None:
    assert horizon_buckets(28) == [("1-7", 1, 7), ("8-14", 8, 14), ("15-28", 15, 28)]
    assert horizon_buckets(10) == [("1-7", 1, 7), ("8-14", 8, 10)]
    assert horizon_buckets(35)[-1] == ("29-35", 29, 35)
    assert list(bucket_of(np.array([1, 7, 8, 14, 15, 28]), 28)) == [
        "1-7",
        "1-7",
        "8-14",
        "8-14",
        "15-28",
        "15-28",
    ]
    with pytest.raises(ValueError, match=r"1\.\.10"):
        bucket_of(np.array([11]), 10)


@pytest.mark.parametrize("model", ["linear", "hgb"])
def test_drivers_add_up_to_the_forecast(model: str, request, panel: Panel) -> None:
    fitted: Forecaster = request.getfixturevalue(model)
    drivers = explain_forecasts(forecaster_predictor(fitted, HORIZON), panel, HORIZON)
    assert tuple(drivers.columns) == DRIVER_COLUMNS
    assert set(drivers["input_group"]) == {
        "reference",
        "sales_history",
        "price_promotions",
        "calendar_events",
        "model_baseline",
    }
    assert len(drivers) == panel.n_series * 2 * 5  # 2 buckets x 5 rows
    assert sums_match(drivers, fitted.predict(panel, HORIZON), HORIZON) < 1e-9
    # The reference row: the recent average times the bucket's days.
    ref = drivers.loc[drivers["input_group"] == "reference"].set_index(
        ["unique_id", "horizon_bucket"]
    )
    level = dict(zip(panel.ids["unique_id"], reference_level(panel), strict=True))
    assert ref.loc[(PROMOTED, "8-14"), "contribution"] == pytest.approx(7 * level[PROMOTED])


@pytest.mark.parametrize("model", ["linear", "hgb"])
def test_a_planned_promotion_shows_in_its_bucket(model: str, request, panel: Panel) -> None:
    fitted: Forecaster = request.getfixturevalue(model)
    drivers = explain_forecasts(
        forecaster_predictor(fitted, HORIZON), panel, HORIZON, series=[PROMOTED]
    )
    promo = drivers.loc[drivers["input_group"] == "price_promotions"].set_index("horizon_bucket")
    assert min(PROMO_DAYS) == 8 and max(PROMO_DAYS) == 14  # the promoted bucket is 8-14
    total_8_14 = drivers.loc[drivers["horizon_bucket"] == "8-14", "contribution"].sum()
    # Half price on the whole bucket: the promotion adds a large part of the forecast there,
    # and next to nothing in the week without it.
    assert promo.loc["8-14", "contribution"] > 0.25 * total_8_14
    assert abs(promo.loc["1-7", "contribution"]) < 0.1 * promo.loc["8-14", "contribution"]


def test_a_group_the_model_ignores_contributes_nothing(panel: Panel) -> None:
    spec = FeatureSpec(exogenous=False)
    blind = make_model("linear", horizon=HORIZON, params={**SMALL, "features": spec}).fit(panel)
    drivers = explain_forecasts(forecaster_predictor(blind, HORIZON), panel, HORIZON)
    promo = drivers.loc[drivers["input_group"] == "price_promotions", "contribution"]
    assert np.abs(promo.to_numpy()).max() < 1e-9
    assert sums_match(drivers, blind.predict(panel, HORIZON), HORIZON) < 1e-9


def test_a_subset_is_explained_on_the_whole_panel(linear: Forecaster, panel: Panel) -> None:
    everyone = explain_forecasts(forecaster_predictor(linear, HORIZON), panel, HORIZON)
    some = ["S03@online", PROMOTED]
    # Scoring only the subset's rows (features over the whole panel) gives the same numbers.
    subset = explain_forecasts(
        forecaster_predictor(linear, HORIZON, series=some), panel, HORIZON, series=some
    )
    expected = everyone.loc[everyone["unique_id"].isin(some)]
    key = ["unique_id", "horizon_bucket", "input_group"]
    both = subset.merge(expected, on=key, suffixes=("", "_all"))
    assert len(both) == len(subset) == len(expected)
    np.testing.assert_allclose(both["contribution"], both["contribution_all"], atol=1e-9)


def test_bad_requests_are_refused(linear: Forecaster, panel: Panel) -> None:
    predict = forecaster_predictor(linear, HORIZON)
    with pytest.raises(ValueError, match="not in the panel"):
        explain_forecasts(predict, panel, HORIZON, series=["nope@x"])
    with pytest.raises(ValueError, match="unknown input groups"):
        explain_forecasts(predict, panel, HORIZON, groups=["weather"])
    short = forecaster_predictor(linear, 7)
    with pytest.raises(ValueError, match=r"expected one per series and day 1\.\.14"):
        explain_forecasts(short, panel, HORIZON)
