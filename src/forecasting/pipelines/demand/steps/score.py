"""Step ``score`` (per shard): forecasts with the version ``register`` pinned."""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecasting.artifacts import (
    LEADTIME_ARTIFACT,
    SCORES_CHANGES,
    SCORES_DRIVERS,
    SCORES_FORECASTS,
    SCORES_HISTORY,
    SCORES_LAUNCHES,
    SCORES_LEADTIME,
    SCORES_MODEL,
    SCORES_REPLENISHMENT,
)
from forecasting.config import REGISTERED_MODEL_NAME, PipelineConfig
from forecasting.errors import NoChampionError
from forecasting.pipelines.demand.common import load_panel, load_text
from forecasting.pipelines.demand.handoffs import Features, Registered, Scored
from forecasting.resources import Resources
from forecasting.schema import FORECAST_COLUMNS, SERIES_KEYS
from forecasting.storage import write_json, write_parquet

if TYPE_CHECKING:
    from collections.abc import Callable

    from forecasting.evaluation.leadtime import LeadTimeCalibrator
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
    from forecasting.lifecycle.serving import load_pinned_model
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
    planner: dict[str, pd.DataFrame | None] = {}
    calibrator = None
    if features.series:
        panel = load_panel(storage, features.uri)
        model = load_pinned_model(REGISTERED_MODEL_NAME, str(version))  # scores and explains
        scores, meta = score_panel(
            panel,
            REGISTERED_MODEL_NAME,
            str(version),
            config.horizon,
            config.active_days,
            config.promotion.plausibility_factor,
            model=model,
        )
        scores, launches = _cold_start(scores, panel, features, config, resources)
        planner = _explanations(run_day, panel, scores, str(version), model, config, resources)
        planner[SCORES_HISTORY] = _history(panel, scores)
    else:
        scores = pd.DataFrame(columns=list(FORECAST_COLUMNS))
        meta = {"model_name": REGISTERED_MODEL_NAME, "model_version": str(version), "run_id": ""}
    leadtime, calibrator = _leadtime_quantiles(scores, meta["run_id"], resources)
    planner[SCORES_REPLENISHMENT] = _replenishment(run_day, scores, calibrator, resources)
    with storage.write_stage(run_day, "scores", features.shard.name) as folder:
        write_parquet(scores, folder / SCORES_FORECASTS)
        if launches is not None:
            write_parquet(launches, folder / SCORES_LAUNCHES)
        if leadtime is not None:
            write_parquet(leadtime, folder / SCORES_LEADTIME)
        for name, frame in planner.items():
            if frame is not None:
                write_parquet(frame, folder / name)
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
) -> tuple[pd.DataFrame | None, LeadTimeCalibrator | None]:
    """Lead-time quantiles of a shard's daily forecasts with the model version's fitted
    quantiles, and the fitted model (``None`` for a version registered without them)."""
    from forecasting.evaluation.leadtime import LeadTimeCalibrator, leadtime_totals
    from forecasting.registry.tracking import artifact_names, load_json_artifact

    if not run_id or not len(scores):
        return None, None
    if LEADTIME_ARTIFACT not in artifact_names(resources.tracker, run_id):
        log.warning("run %s has no %s: no lead-time quantiles", run_id, LEADTIME_ARTIFACT)
        return None, None
    calibrator = LeadTimeCalibrator(**load_json_artifact(run_id, LEADTIME_ARTIFACT))
    totals = calibrator.quantiles(
        leadtime_totals(scores.loc[:, ["unique_id", "horizon", "forecast"]])
    )
    keys = scores.drop_duplicates("unique_id").loc[:, list(SERIES_KEYS)]
    return totals.merge(keys, on="unique_id").rename(columns={"m": "forecast"}), calibrator


def _explanations(
    run_day: date,
    panel: Panel,
    scores: pd.DataFrame,
    version: str,
    model: Any,
    config: PipelineConfig,
    resources: Resources,
) -> dict[str, pd.DataFrame | None]:
    """Each forecast's drivers and each series' change since the previous run
    (:mod:`forecasting.explain`), for the series the model forecast (not new products' launch
    curves); ``config.explain_series`` of them per shard, those whose total moved most."""
    from forecasting.explain import applicable_groups, explain_change, explain_forecasts
    from forecasting.lifecycle.serving import load_pinned_model
    from forecasting.publishing import previous_runs
    from forecasting.publishing.planner import read_drivers
    from forecasting.registry.pyfunc import model_input_to_panel, panel_to_model_input

    if config.explain_series == 0:
        return {}
    modelled = _modelled(scores)
    modelled = modelled.loc[modelled["unique_id"].isin(panel.ids["unique_id"])]
    if modelled.empty:
        return {}
    previous, _ = previous_runs(resources.warehouse, run_day)
    before = None
    if previous is not None:
        before = read_drivers(resources.warehouse, date.fromisoformat(previous["run_date"]))
    chosen = _series_to_explain(modelled, before, panel, config.explain_series)
    # The panel as the pyfunc sees it: demand, prices, promotions and events, not the
    # panel's daily extras (so those groups are not explained).
    seen = model_input_to_panel(panel_to_model_input(panel))
    groups = applicable_groups(seen, daily=False)

    def explain(model: Any) -> pd.DataFrame:
        return explain_forecasts(
            _predictor(model, config.horizon, chosen), seen, config.horizon, chosen, groups
        )

    drivers = explain(model)
    keys = panel.ids.loc[:, list(SERIES_KEYS)]
    drivers = drivers.merge(keys, on="unique_id")
    out: dict[str, pd.DataFrame | None] = {SCORES_DRIVERS: drivers}
    if previous is None or before is None or before.empty:
        return out
    before = before.merge(keys, on=["sku", "location_id"])  # the shard's series then
    if before.empty:
        return out
    old_version = str(previous["model_version"])
    old_today = (
        drivers
        if old_version == version
        else explain(load_pinned_model(REGISTERED_MODEL_NAME, old_version)).merge(keys)
    )
    changes = explain_change(before, old_today, drivers)
    out[SCORES_CHANGES] = changes.merge(keys, on="unique_id").assign(
        previous_run_date=date.fromisoformat(previous["run_date"])
    )
    return out


def _series_to_explain(
    modelled: pd.DataFrame, before: pd.DataFrame | None, panel: Panel, limit: int | None
) -> np.ndarray:
    """``unique_id`` of the series to explain: all modelled ones, or the ``limit`` whose
    total moved most since the previous run's drivers (series new since then first)."""
    wanted = modelled["unique_id"].unique()
    if limit is not None and len(wanted) > limit:
        totals = modelled.groupby("unique_id")["forecast"].sum()
        moved = totals.abs()
        if before is not None and not before.empty:
            keyed = before.merge(panel.ids, on=["sku", "location_id"])
            then = keyed.groupby("unique_id")["contribution"].sum()
            moved = (totals - then.reindex(totals.index)).abs().fillna(np.inf)
        wanted = moved.sort_values(ascending=False).index[:limit].to_numpy()
    return np.asarray(wanted, dtype=object)


def _predictor(model: Any, horizon: int, series: np.ndarray) -> Callable[[Panel], pd.DataFrame]:
    """What the explanations re-score: the pinned version's forecaster scoring only the
    explained series while its features see the whole shard (as scoring does; seconds per
    shard for a subset), or the pyfunc itself for a model that is not ours."""
    from forecasting.explain import forecaster_predictor, pyfunc_predictor

    unwrap = getattr(model, "unwrap_python_model", None)
    forecaster = getattr(unwrap(), "forecaster", None) if unwrap is not None else None
    if forecaster is None:
        return pyfunc_predictor(model, horizon)
    return forecaster_predictor(forecaster, horizon, series=series)


def _history(panel: Panel, scores: pd.DataFrame) -> pd.DataFrame:
    """Daily units of the scored series over the retained days, for the planners' charts
    (``NaN``: excluded or unknown)."""
    from forecasting.publishing.planner import HISTORY_RETENTION_DAYS

    rows = np.flatnonzero(panel.ids["unique_id"].isin(scores["unique_id"]).to_numpy())
    first = max(0, panel.n_history - HISTORY_RETENTION_DAYS)
    days = panel.dates[first : panel.n_history]
    units = panel.y[rows, first : panel.n_history]
    ids = panel.ids.iloc[rows]
    return pd.DataFrame(
        {
            "sku": np.repeat(ids["sku"].to_numpy(), len(days)),
            "location_id": np.repeat(ids["location_id"].to_numpy(), len(days)),
            "ds": np.tile(days.date, len(rows)),
            "units": units.reshape(-1),
        }
    )


def _replenishment(
    run_day: date,
    scores: pd.DataFrame,
    calibrator: LeadTimeCalibrator | None,
    resources: Resources,
) -> pd.DataFrame | None:
    """Replenishment suggestions (:mod:`forecasting.replenishment`) for the shard's series
    with a policy and a snapshot, when the source has a policy and the version its fitted
    lead-time model (``None`` otherwise)."""
    from forecasting.extraction.stock import positions_from_stock, read_stock_snapshot
    from forecasting.replenishment import suggest_orders

    folder = resources.storage.committed(run_day, "catalog")
    stock = None if folder is None else read_stock_snapshot(folder)
    if stock is None or calibrator is None or not len(scores):
        return None
    modelled = _modelled(scores)
    positions = positions_from_stock(stock, modelled, run_day)
    if positions.empty:
        return None
    return suggest_orders(modelled, calibrator, positions)


def _modelled(scores: pd.DataFrame) -> pd.DataFrame:
    """The rows the model forecast (not new products' launch curves)."""
    if "cold_start" not in scores.columns:
        return scores
    return scores.loc[~scores["cold_start"].fillna(False).astype(bool)]
