"""The published forecast's new products: launch-curve rows replace the model's for young
series, planned launches are added, and the report's summary names their neighbours."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.scoring.cold_start import history_days, launch_summary, with_cold_start
from forecasting.text.embedding import TextEmbedding
from forecasting.text.launch import first_sale_index
from tests.unit.test_launch import HORIZON, _shop


def _model_scores(panel) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """What the registered model returns: every series, 1 unit a day."""
    days = panel.dates[panel.n_history : panel.n_history + HORIZON]
    ids = panel.ids[["unique_id", "sku", "location_id"]]
    frame = ids.merge(pd.DataFrame({"ds": days, "horizon": np.arange(1, HORIZON + 1)}), how="cross")
    return frame.assign(forecast=1.0, p10=0.5, p50=1.0, p90=2.0)


def test_young_and_planned_products_come_from_the_launch_curves() -> None:
    panel, catalogue = _shop()
    launch_day = panel.dates[panel.n_history - 1] + pd.Timedelta(days=3)
    planned = pd.DataFrame(
        {
            "sku": ["PLANNED"],
            "name": ["JUMBO BAG RED RETROSPOT MINI"],
            "description": ["JUMBO BAG RED RETROSPOT MINI"],
            "category": ["product"],
            "list_price": [2.0],
            "launched_on": [launch_day],
        }
    )
    catalogue = pd.concat([catalogue, planned], ignore_index=True)
    embedding = TextEmbedding.fit(catalogue, dimensions=8)
    origin = panel.n_history - 1
    first_sale = first_sale_index(panel.y, origin)
    young = set(panel.ids["unique_id"][(first_sale >= 0) & (origin - first_sale < 28)])
    out = with_cold_start(_model_scores(panel), panel, catalogue, embedding, HORIZON)

    # The model's rows of series that first sold under 28 days ago are replaced.
    assert young and out.loc[out["unique_id"].isin(young), "cold_start"].all()
    assert (out.loc[out["unique_id"].isin(young), "history_days"] < 28).all()
    established = out.loc[~out["cold_start"]]
    assert (established["forecast"] == 1.0).all()
    assert (
        established["history_days"] == history_days(panel)[established["unique_id"]].to_numpy()
    ).all()
    new = out.loc[out["sku"] == "PLANNED"]
    assert len(new) == 2 * HORIZON and (new["history_days"] == 0).all()
    assert (new.loc[new["ds"] < launch_day, "forecast"] == 0).all()
    assert new.loc[new["ds"] >= launch_day, "forecast"].sum() > 0
    assert not out.duplicated(["unique_id", "ds"]).any()

    summary = launch_summary(out, panel, catalogue, embedding)
    row = summary.loc[summary["sku"] == "PLANNED"].iloc[0]
    assert row["history_days"] == 0 and row["forecast"] > 0
    assert "JUMBO BAG RED RETROSPOT" in row["neighbours"]  # forecast from its own family


def test_a_shop_that_never_saw_a_launch_forecasts_new_products_from_their_neighbours() -> None:
    panel, catalogue = _shop()
    old = panel.ids["sku"].str.endswith(("00", "01")).to_numpy()  # sold from the first day
    panel = panel.subset(np.flatnonzero(old))
    planned = catalogue.loc[catalogue["sku"] == "005"].assign(
        launched_on=panel.dates[panel.n_history - 1] + pd.Timedelta(days=1)
    )
    catalogue = pd.concat([catalogue.loc[catalogue["sku"].isin(panel.ids["sku"])], planned])
    embedding = TextEmbedding.fit(catalogue, dimensions=4)
    out = with_cold_start(_model_scores(panel), panel, catalogue, embedding, HORIZON)
    new = out.loc[out["sku"] == "005"]
    # A jumbo bag sells like the jumbo bags sell now (6 and 3 a day), not like mugs.
    assert len(new) == 2 * HORIZON and new["cold_start"].all()
    assert 2.0 < new.groupby("location_id")["forecast"].sum().max() / HORIZON < 15.0
