"""Step ``score`` (per shard): forecasts with the version ``register`` pinned."""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from forecasting.artifacts import (
    LEADTIME_ARTIFACT,
    SCORES_FORECASTS,
    SCORES_LAUNCHES,
    SCORES_LEADTIME,
    SCORES_MODEL,
)
from forecasting.config import REGISTERED_MODEL_NAME, PipelineConfig
from forecasting.errors import NoChampionError
from forecasting.pipelines.demand.common import load_panel, load_text
from forecasting.pipelines.demand.handoffs import Features, Registered, Scored
from forecasting.resources import Resources
from forecasting.schema import FORECAST_COLUMNS, SERIES_KEYS
from forecasting.storage import write_json, write_parquet

if TYPE_CHECKING:
    from forecasting.features.panel import Panel

__all__ = ["score_step"]

log = logging.getLogger(__name__)


def score_step(
    run_day: date,
    features: Features,
    registered: Registered,
    config: PipelineConfig,
    resources: Resources,
) -> Scored:
    """*Per shard*: forecast the next ``horizon`` days with the version ``register`` pinned.

    Args:
        run_day: The run's day.
        features: The shard's features.
        registered: The version pinned for the day.
        config: Run configuration.
        resources: The task's MLflow tracker and storage.

    Returns:
        The scores folder, the shard, its ``rows`` and ``series``, and the model's name,
        version and MLflow run.

    Raises:
        NoChampionError: If no version may serve (no champion yet and the candidate was
            not promoted).
        BadForecastError: If the forecasts break their contract.
    """
    from forecasting.scoring import score_panel

    version = registered.version
    if not version:
        raise NoChampionError(
            f"no model version may serve {run_day}: {registered.reason}; nothing is "
            "scored or published"
        )
    storage = resources.storage
    resources.experiment_id  # noqa: B018 (points MLflow at the store before loading a model)
    meta: dict[str, Any]
    launches = None
    if features.series:
        panel = load_panel(storage, features.uri)
        scores, meta = score_panel(
            panel,
            REGISTERED_MODEL_NAME,
            str(version),
            config.horizon,
            config.active_days,
            config.promotion.plausibility_factor,
        )
        scores, launches = _cold_start(scores, panel, features, config, resources)
    else:
        scores = pd.DataFrame(columns=list(FORECAST_COLUMNS))
        meta = {"model_name": REGISTERED_MODEL_NAME, "model_version": str(version), "run_id": ""}
    leadtime = _leadtime_quantiles(scores, meta["run_id"], resources)
    with storage.write_stage(run_day, "scores", features.shard.name) as folder:
        write_parquet(scores, folder / SCORES_FORECASTS)
        if launches is not None:
            write_parquet(launches, folder / SCORES_LAUNCHES)
        if leadtime is not None:
            write_parquet(leadtime, folder / SCORES_LEADTIME)
        write_json(folder / SCORES_MODEL, meta)
    return Scored(
        uri=storage.uri(folder),
        shard=features.shard,
        rows=len(scores),
        series=int(scores["unique_id"].nunique()),
        model_name=str(meta["model_name"]),
        model_version=str(meta["model_version"]),
        run_id=str(meta["run_id"]),
    )


def _cold_start(
    scores: pd.DataFrame,
    panel: Panel,
    features: Features,
    config: PipelineConfig,
    resources: Resources,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """New products' rows from the launch curves (:mod:`forecasting.scoring.cold_start`),
    and their summary for the report; the scores as they are for features built without
    the catalogue's text (a run of an earlier version)."""
    from forecasting.scoring.cold_start import launch_summary, with_cold_start

    text = load_text(resources.storage, features)
    if text is None:
        return scores, None
    products, embedding = text
    scores = with_cold_start(scores, panel, products, embedding, config.horizon)
    return scores, launch_summary(scores, panel, products, embedding)


def _leadtime_quantiles(
    scores: pd.DataFrame, run_id: str, resources: Resources
) -> pd.DataFrame | None:
    """Lead-time quantiles of a shard's daily forecasts with the model version's fitted
    quantiles (``None`` for a version registered without them)."""
    from forecasting.evaluation.leadtime import LeadTimeCalibrator, leadtime_totals
    from forecasting.registry.tracking import artifact_names, load_json_artifact

    if not run_id or not len(scores):
        return None
    if LEADTIME_ARTIFACT not in artifact_names(resources.tracker, run_id):
        log.warning("run %s has no %s: no lead-time quantiles", run_id, LEADTIME_ARTIFACT)
        return None
    calibrator = LeadTimeCalibrator(**load_json_artifact(run_id, LEADTIME_ARTIFACT))
    totals = calibrator.quantiles(
        leadtime_totals(scores.loc[:, ["unique_id", "horizon", "forecast"]])
    )
    keys = scores.drop_duplicates("unique_id").loc[:, list(SERIES_KEYS)]
    return totals.merge(keys, on="unique_id").rename(columns={"m": "forecast"})
