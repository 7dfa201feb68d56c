"""Score a shard's panel with one pinned model version through its MLflow pyfunc interface.

The version is the one ``register`` decided on for the run and passed on (never whatever
``@champion`` points to when scoring happens to run), loaded as
``models:/<name>/<version>`` (:func:`forecasting.lifecycle.serving.load_pinned_model`, as
the customer models are). Its output must hold: one row per series and day, finite,
non-negative, P10 <= P50 <= P90, and plausible against each series' history. Anything
else fails the run with the count and the series named; nothing is ever published as
zero demand in place of a missing forecast.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from forecasting.errors import NonRetryableError
from forecasting.features.panel import Panel
from forecasting.lifecycle.serving import load_pinned_model
from forecasting.registry.pyfunc import panel_to_model_input
from forecasting.schema import FORECAST_COLUMNS, QUANTILE_COLUMNS, SERIES_KEYS
from forecasting.training.shard import plausibility

__all__ = ["BadForecastError", "score_panel"]

log = logging.getLogger(__name__)


class BadForecastError(NonRetryableError):
    """The model's forecasts break their contract (NaN, infinite, crossed, implausible)."""


def score_panel(
    panel: Panel,
    registered_model: str,
    version: str,
    horizon: int,
    active_days: int | None,
    plausibility_factor: float,
    model: Any = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Forecast ``horizon`` days after the panel's history with one model version.

    Args:
        panel: Panel with history and future covariates (one shard).
        registered_model: Registered model name.
        version: The pinned version.
        horizon: Days to forecast.
        active_days: Keep only series that sold in this many days (``None``: all).
        plausibility_factor: See :func:`forecasting.training.shard.plausibility`.
        model: The version already loaded (:func:`~forecasting.lifecycle.serving.
            load_pinned_model`; default: loaded here).

    Returns:
        Forecast frame (:data:`~forecasting.schema.FORECAST_COLUMNS`) and the model's ``model_name``, ``model_version``, ``run_id``.

    Raises:
        BadForecastError: If the output breaks its contract.
    """
    meta = {"model_name": registered_model, "model_version": str(version)}
    if panel.n_series == 0:
        return pd.DataFrame(columns=list(FORECAST_COLUMNS)), {**meta, "run_id": ""}
    model = model if model is not None else load_pinned_model(registered_model, version)
    meta["run_id"] = str(model.metadata.run_id or "")
    # The model sees every series of the shard (shop-wide features are computed over
    # them, as in training); only series that sold recently are kept.
    scores = model.predict(panel_to_model_input(panel), params={"horizon": horizon})
    if len(scores) != panel.n_series * horizon:
        raise BadForecastError(
            f"{registered_model} v{version} returned {len(scores)} rows, expected "
            f"{panel.n_series} series x {horizon} days"
        )
    if active_days:
        active = panel.ids["unique_id"][panel.active_series(panel.last_history_index, active_days)]
        scores = scores.loc[scores["unique_id"].isin(active)]
    values = scores[["forecast", *QUANTILE_COLUMNS]].to_numpy(float)
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        named = sorted(scores.loc[bad, "unique_id"].unique())
        raise BadForecastError(
            f"{registered_model} v{version} returned {int(bad.sum())} NaN or infinite forecasts "
            f"for {len(named)} series (e.g. {named[:5]}): nothing is published"
        )
    q = values[:, 1:]
    if (q < 0).any() or (np.diff(q, axis=1) < -1e-9).any() or (values[:, 0] < 0).any():
        raise BadForecastError(f"{registered_model} v{version} breaks 0 <= P10 <= P50 <= P90")
    check = plausibility(scores, panel, plausibility_factor)
    if check["implausible"]:
        raise BadForecastError(
            f"{registered_model} v{version} forecasts {check['implausible']} series above "
            f"{plausibility_factor:g} x their largest daily demand of the last year "
            f"(e.g. {check['examples'][:3]}): nothing is published"
        )
    scores = scores.merge(panel.ids[list(SERIES_KEYS)], on="unique_id", how="left")
    log.info("scored %d rows with %s v%s", len(scores), registered_model, version)
    return scores.loc[:, list(FORECAST_COLUMNS)], meta
