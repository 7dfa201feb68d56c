"""Score the panel with the ``@champion`` model through its MLflow pyfunc interface."""

from __future__ import annotations

import logging
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from forecasting.errors import NoChampionError
from forecasting.features.panel import Panel
from forecasting.registry.models import get_champion
from forecasting.registry.pyfunc import panel_to_model_input

__all__ = ["score_with_champion"]

log = logging.getLogger(__name__)


def score_with_champion(
    panel: Panel, registered_model: str, horizon: int, active_days: int | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Forecast ``horizon`` days after the panel's history with the champion version.

    The version is resolved once and loaded by number, so a promotion happening
    concurrently cannot mix two models in one scoring run.

    Args:
        panel: Panel with history and future covariates.
        registered_model: Registered model name.
        horizon: Days to forecast.
        active_days: Score only series that sold in this many days (``None``: all).

    Returns:
        Forecast frame (``unique_id, sku, location_id, ds, horizon, forecast, p10, p50,
        p90``) and the model's ``model_name``, ``model_version``, ``run_id``.

    Raises:
        NoChampionError: If there is no champion.
        RuntimeError: If the output breaks its contract.
    """
    champion = get_champion(registered_model)
    if champion is None:
        raise NoChampionError(
            f"registered model {registered_model!r} has no @champion yet: no candidate has passed "
            "the promotion rule, so nothing is scored or published"
        )
    model = mlflow.pyfunc.load_model(f"models:/{registered_model}/{champion.version}")
    # The model sees every series (shop-wide features are computed over all of them);
    # only series that sold recently are kept.
    scores = model.predict(panel_to_model_input(panel), params={"horizon": horizon})
    if len(scores) != panel.n_series * horizon:
        raise RuntimeError(
            f"champion returned {len(scores)} rows, expected {panel.n_series * horizon}"
        )
    if active_days:
        active = panel.ids["unique_id"][panel.active_series(panel.last_history_index, active_days)]
        scores = scores.loc[scores["unique_id"].isin(active)]
    q = scores[["p10", "p50", "p90"]].to_numpy()
    if (q < 0).any() or (np.diff(q, axis=1) < 0).any():
        raise RuntimeError("champion forecasts break P10 <= P50 <= P90 >= 0")
    scores = scores.merge(panel.ids, on="unique_id", how="left")
    cols = ["unique_id", "sku", "location_id", "ds", "horizon", "forecast", "p10", "p50", "p90"]
    meta = {
        "model_name": registered_model,
        "model_version": champion.version,
        "run_id": champion.run_id,
        "candidate": champion.candidate,
    }
    log.info(
        "scored %d rows with %s v%s (%s)",
        len(scores),
        registered_model,
        champion.version,
        champion.candidate,
    )
    return scores.loc[:, cols], meta
