"""New products in the published forecast: launches in the horizon and young series.

The registered model forecasts every series from its own history. A product with fewer
than :data:`MIN_HISTORY_DAYS` days of it, or one the catalogue says launches inside the
horizon (``products.launched_on``; it has no history at all), is forecast instead from
its text neighbours' and category's launch curves, scaled by price
(:func:`forecasting.text.launch.forecast_launches`). Its rows are published like every
other series' with ``cold_start`` set and ``history_days`` saying how much of its own
history there was; the planner report lists them with the products they were forecast
from (:func:`launch_summary`).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting.features.panel import Panel
from forecasting.schema import FORECAST_COLUMNS
from forecasting.text.embedding import TextEmbedding

__all__ = [
    "COLD_START_COLUMNS",
    "MIN_HISTORY_DAYS",
    "history_days",
    "launch_summary",
    "with_cold_start",
]

log = logging.getLogger(__name__)

#: A series with fewer days of history than this is forecast from the launch curves.
MIN_HISTORY_DAYS = 28
#: Columns a scored forecast gains: is the row a new product's, and its days of history.
COLD_START_COLUMNS = ("cold_start", "history_days")
#: Text neighbours listed per new product in the report.
SUMMARY_NEIGHBOURS = 3


def history_days(panel: Panel) -> pd.Series:
    """Days of history of every series up to the panel's last history day, from its first
    known day (its launch or first sale), indexed by ``unique_id``."""
    known = ~np.isnan(panel.y[:, : panel.n_history])
    first = np.where(known.any(axis=1), known.argmax(axis=1), panel.n_history)
    return pd.Series(panel.n_history - first, index=panel.ids["unique_id"].to_numpy())


def with_cold_start(
    scores: pd.DataFrame,
    panel: Panel,
    catalogue: pd.DataFrame,
    embedding: TextEmbedding,
    horizon: int,
    min_history_days: int = MIN_HISTORY_DAYS,
) -> pd.DataFrame:
    """The model's forecasts with new products' rows from the launch curves.

    Args:
        scores: The registered model's forecasts (:data:`FORECAST_COLUMNS`).
        panel: The shard's panel they were scored from.
        catalogue: The shard's products with their text (``sku, name, description,
            category, list_price, launched_on``).
        embedding: The run's text model (fitted on the whole catalogue).
        horizon: Days forecast.
        min_history_days: Series younger than this are forecast from the launch curves.

    Returns:
        :data:`FORECAST_COLUMNS` plus :data:`COLD_START_COLUMNS`: the model's rows of
        established series, and the launch curves' rows of young series and of products
        launching in the horizon.
    """
    from forecasting.text.launch import forecast_launches

    days = history_days(panel)
    scores = scores.assign(
        cold_start=False, history_days=scores["unique_id"].map(days).fillna(0).astype("int64")
    )
    if panel.n_series == 0 or catalogue.empty:
        return scores
    launches = forecast_launches(
        panel,
        catalogue,
        panel.last_history_index,
        horizon,
        embedding,
        min_history_days=min_history_days,
    )
    if launches.empty:
        return scores
    launches = launches.assign(cold_start=True)
    launches["history_days"] = launches["history_days"].astype("int64")
    kept = scores.loc[~scores["unique_id"].isin(set(launches["unique_id"]))]
    columns = [*FORECAST_COLUMNS, *COLD_START_COLUMNS]
    out = pd.concat([kept.loc[:, columns], launches.loc[:, columns]], ignore_index=True)
    log.info(
        "cold start: %d series from the launch curves (%d launching in the horizon)",
        launches["unique_id"].nunique(),
        launches.loc[launches["history_days"] == 0, "unique_id"].nunique(),
    )
    return out.sort_values(["unique_id", "ds"], ignore_index=True)


def launch_summary(
    forecasts: pd.DataFrame,
    panel: Panel,
    catalogue: pd.DataFrame,
    embedding: TextEmbedding,
    neighbours: int = SUMMARY_NEIGHBOURS,
) -> pd.DataFrame:
    """One row per new product's series: what planners see in the report.

    Args:
        forecasts: :func:`with_cold_start`'s rows.
        panel: The shard's panel (the products with history are the neighbours' pool).
        catalogue: The shard's products with their text.
        embedding: The run's text model.
        neighbours: Text neighbours listed per product.

    Returns:
        ``sku, name, location_id, launched_on, history_days, forecast, p10, p90`` (totals
        over the horizon: the sums of the daily forecasts and quantiles) and
        ``neighbours`` (``SKU name (similarity)``, most similar first).
    """
    cold = forecasts.loc[forecasts["cold_start"].astype(bool)]
    columns = [
        "sku",
        "name",
        "location_id",
        "launched_on",
        "history_days",
        "forecast",
        "p10",
        "p90",
        "neighbours",
    ]
    if cold.empty:
        return pd.DataFrame(columns=columns)
    totals = cold.groupby(["sku", "location_id"], as_index=False).agg(
        history_days=("history_days", "first"),
        forecast=("forecast", "sum"),
        p10=("p10", "sum"),
        p90=("p90", "sum"),
    )
    products = catalogue.drop_duplicates("sku").set_index("sku")
    established = set(panel.ids["sku"]) - set(cold["sku"])
    pool = np.isin(embedding.skus, sorted(established))
    skus = totals["sku"].drop_duplicates().to_numpy()
    known = products.reindex(skus).reset_index()
    query = embedding.transform(known.fillna({"name": "", "description": "", "category": ""}))
    positions, sims = embedding.neighbours(query, neighbours, among=pool)
    names = products["name"].astype(str)
    described = {
        sku: "; ".join(
            f"{embedding.skus[p]} {names.get(embedding.skus[p], '')} ({s:.2f})"
            for p, s in zip(row, sim, strict=True)
        )
        for sku, row, sim in zip(skus, positions, sims, strict=True)
    }
    totals["name"] = totals["sku"].map(names)
    totals["launched_on"] = totals["sku"].map(products["launched_on"])
    totals["neighbours"] = totals["sku"].map(described)
    return totals.loc[:, columns].sort_values(["launched_on", "sku", "location_id"])
