import numpy as np
import pandas as pd
import pytest

from forecasting.explain.changes import CHANGE_COLUMNS, explain_change
from forecasting.explain.describe import describe_drivers
from forecasting.explain.drivers import explain_forecasts, forecaster_predictor
from forecasting.features import Panel
from forecasting.models import Forecaster

from .conftest import HORIZON, PROMOTED


def total(drivers: pd.DataFrame) -> pd.Series:
    return drivers.groupby("unique_id")["contribution"].sum()


@pytest.fixture(scope="module")
def yesterday(panel: Panel) -> Panel:
    """The panel as the previous run saw it: one day less of demand."""
    return panel.truncate(panel.last_history_index - 1)


def test_same_version_change_is_all_new_data(
    linear: Forecaster, panel: Panel, yesterday: Panel
) -> None:
    previous = explain_forecasts(forecaster_predictor(linear, HORIZON), yesterday, HORIZON)
    today = explain_forecasts(forecaster_predictor(linear, HORIZON), panel, HORIZON)
    changes = explain_change(previous, today, today)
    assert tuple(changes.columns) == CHANGE_COLUMNS
    model_rows = changes.loc[changes["part"] == "new_model"]
    assert (model_rows["input_group"] == "model").all() and (model_rows["contribution"] == 0).all()
    assert "reference" not in set(changes["input_group"])  # counted as sales history
    np.testing.assert_allclose(
        changes.groupby("unique_id")["contribution"].sum(),
        total(today) - total(previous),
        atol=1e-9,
    )
    # The new day of sales moved the forecasts: sales history carries most of the change.
    new_data = changes.loc[changes["part"] == "new_data"]
    assert new_data.loc[new_data["input_group"] == "sales_history", "contribution"].abs().sum() > 0


def test_a_new_model_version_is_its_own_part(
    linear: Forecaster, hgb: Forecaster, panel: Panel, yesterday: Panel
) -> None:
    previous = explain_forecasts(forecaster_predictor(linear, HORIZON), yesterday, HORIZON)
    old_today = explain_forecasts(forecaster_predictor(linear, HORIZON), panel, HORIZON)
    new_today = explain_forecasts(forecaster_predictor(hgb, HORIZON), panel, HORIZON)
    changes = explain_change(previous, old_today, new_today)
    by_series = changes.groupby("unique_id")["contribution"].sum()
    np.testing.assert_allclose(by_series, total(new_today) - total(previous), atol=1e-9)
    model = changes.loc[changes["part"] == "new_model"].set_index("unique_id")["contribution"]
    np.testing.assert_allclose(model, total(new_today) - total(old_today), atol=1e-9)
    line = describe_drivers(changes.loc[changes["unique_id"] == PROMOTED], {"S00": "Blue mug"})
    assert line.startswith("S00 (Blue mug, online) ")
    assert (
        f"{by_series[PROMOTED]:+.0f} units: " in line
        or f"{by_series[PROMOTED]:+.1f} units: " in line
    )


def test_new_and_gone_series_and_groups_of_one_day() -> None:
    def rows(uid: str, groups: dict[str, float]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "unique_id": uid,
                "horizon_bucket": "1-7",
                "input_group": list(groups),
                "contribution": list(groups.values()),
            }
        )

    previous = pd.concat(
        [
            rows("A@x", {"reference": 10, "sales_history": 2, "model_baseline": 1}),
            rows("GONE@x", {"reference": 5}),
        ]
    )
    today = pd.concat(
        [
            rows("A@x", {"reference": 11, "sales_history": 1, "reviews": 3, "model_baseline": 1}),
            rows("NEW@x", {"reference": 7}),
        ]
    )
    changes = explain_change(previous, today)
    assert set(changes["unique_id"]) == {"A@x"}
    got = changes.set_index("input_group")["contribution"].to_dict()
    assert got == {"sales_history": 0.0, "reviews": 3.0, "model_baseline": 0.0, "model": 0.0}
    assert list(changes["input_group"]) == ["sales_history", "reviews", "model_baseline", "model"]
    assert sum(got.values()) == 16 - 13
    # Warehouse rows (sku, location_id) work as well.
    warehouse = previous.assign(sku=previous["unique_id"].str[:-2], location_id="x").drop(
        columns="unique_id"
    )
    pd.testing.assert_frame_equal(explain_change(warehouse, today), changes)
    with pytest.raises(ValueError, match="old_model_today lacks 1 series"):
        explain_change(previous, today.loc[today["unique_id"] == "A@x"], today)


def test_describe_a_forecast_against_its_recent_average() -> None:
    rows = pd.DataFrame(
        {
            "unique_id": "SKU-00006@online",
            "horizon_bucket": ["1-7"] * 4 + ["8-14"] * 4,
            "input_group": ["reference", "price_promotions", "sales_history", "calendar_events"]
            * 2,
            "contribution": [20.0, 8.0, 2.5, 0.01, 20.0, 4.0, 3.5, 0.0],
        }
    )
    assert describe_drivers(rows, {"SKU-00006": "Blue mug"}) == (
        "SKU-00006 (Blue mug, online) +18 units: +12 price and promotions, +6 sales history"
    )
    assert (
        describe_drivers(rows, {}, top=1)
        == "SKU-00006 (online) +18 units: +12 price and promotions"
    )
    with pytest.raises(ValueError, match="one series"):
        describe_drivers(pd.concat([rows, rows.assign(unique_id="B@x")]))
