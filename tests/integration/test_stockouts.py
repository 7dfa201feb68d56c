"""Stock-outs are not zero demand: with ``inventory_snapshots``, the days a series was out
of stock are excluded from training targets and accuracy and flagged in the extract; the
forecast is not dragged down by the week it could not sell. Without snapshots nothing
changes."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pandas as pd
import pytest
from upath import UPath

from forecasting.db import make_engine
from forecasting.extraction import ExtractWindow, extract_all
from forecasting.features import Panel
from forecasting.models.zoo import make_model
from forecasting.sources import load_shop

pytestmark = pytest.mark.integration

DAY = date(2024, 6, 30)
SKU, LOCATION = "SKU-00001", "online"
WEEK = pd.date_range("2024-06-24", "2024-06-30", freq="D")


def stocked_out(shop, snapshots: bool):
    """The shop with SKU-00001 unsold online in the last week (out of stock), and, when
    ``snapshots``, the inventory rows that say so."""
    orders = shop.orders.set_index("order_id")
    lines = shop.order_lines
    when = pd.to_datetime(orders.loc[lines["order_id"], "ordered_at"].to_numpy())
    where = orders.loc[lines["order_id"], "location_id"].to_numpy()
    lost = (lines["sku"] == SKU) & (where == LOCATION) & (when >= WEEK[0])
    inventory = pd.DataFrame(
        {
            "sku": SKU,
            "location_id": LOCATION,
            "snapshot_date": WEEK.date,
            "units_on_hand": 0.0,
        }
    )
    return dataclasses.replace(
        shop,
        order_lines=lines.loc[~lost].reset_index(drop=True),
        inventory_snapshots=inventory if snapshots else shop.inventory_snapshots,
    )


def extract(shop, folder) -> tuple[pd.DataFrame, Panel]:
    engine = make_engine(f"sqlite:///{folder / 'shop.db'}")
    load_shop(engine, shop)
    window = ExtractWindow.for_logical_date(DAY, history_days=420, horizon=14)
    result = extract_all(engine, window, UPath(folder / "storage"))
    panel = Panel.from_long(result.history, result.future, result.events)
    return result.history.assign(cleaning=[result.cleaning] * len(result.history)), panel


def forecast_of(panel: Panel, name: str) -> float:
    """The model's 14-day total for the stocked-out series."""
    model = make_model(name, horizon=14).fit(panel)
    out = model.predict(panel, 14)
    return float(out.loc[out["unique_id"] == f"{SKU}@{LOCATION}", "forecast"].sum())


def test_a_stocked_out_week_does_not_drag_the_forecast_down(small_shop, tmp_path) -> None:
    runs = {}
    for name, shop in {
        "original": small_shop,
        "zeros": stocked_out(small_shop, snapshots=False),
        "stockout": stocked_out(small_shop, snapshots=True),
    }.items():
        folder = tmp_path / name
        folder.mkdir()
        runs[name] = extract(shop, folder)

    history, _ = runs["stockout"]
    series = history.loc[(history["sku"] == SKU) & (history["location_id"] == LOCATION)]
    week = series.loc[series["ds"].isin(WEEK)]
    assert (week["excluded"] == "stockout").all() and week["y"].isna().all()
    assert series.loc[~series["ds"].isin(WEEK), "excluded"].isna().all()
    assert history["cleaning"].iloc[0]["stockout_days"] == 7
    # Without snapshots the same week is ordinary zero demand, and nothing is excluded.
    zeros, _ = runs["zeros"]
    assert zeros["excluded"].isna().all() and zeros["cleaning"].iloc[0]["stockout_days"] == 0

    totals = {
        name: {k: forecast_of(panel, name) for k, (_, panel) in runs.items()}
        for name in ("seasonal_naive", "hgb")
    }
    naive, hgb = totals["seasonal_naive"], totals["hgb"]
    # A week of zeros read as demand: same-weekday-last-week forecasts nothing at all.
    assert naive["zeros"] == 0 and naive["stockout"] > 0.75 * naive["original"], naive
    # Gradient boosting on lags and rolling means: with the excluded week it forecasts what
    # it did without the stock-out. (How far a week of zeros pulls it down depends on the
    # shop: on this one, since its demand has surges of interest, hardly at all, -2 %; it
    # was -17 % before. The naive forecast above shows the drag plainly.)
    assert abs(hgb["stockout"] / hgb["original"] - 1) < 0.1, hgb
    assert np.isfinite(list(hgb.values())).all()
