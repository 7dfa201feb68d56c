"""Step ``fit`` (per shard): the catalogue's winner fitted on the shard's whole history."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import numpy as np

from forecasting.artifacts import BACKTEST_CANDIDATES, FIT_MODEL, FIT_SUMMARY
from forecasting.config import PipelineConfig
from forecasting.names import BASELINE_MODEL
from forecasting.pipelines.demand.common import catalogue_winner, load_panel, skip_reason
from forecasting.pipelines.demand.handoffs import Backtested, Checked, Features, Fitted
from forecasting.resources import Resources
from forecasting.storage import read_json, write_json

__all__ = ["fit_step"]


def fit_step(
    run_day: date,
    features: Features,
    backtests: list[Backtested],
    checked: Checked,
    config: PipelineConfig,
    resources: Resources,
) -> Fitted:
    """*Per shard*: fit the catalogue's winner on the shard's whole history.

    The winner is the candidate with the best catalogue-level backtest (every shard
    computes the same choice from the same statistics). The refit's forecast is checked
    for plausibility; the result feeds the promotion rule.

    Args:
        run_day: The run's day.
        features: The shard's features.
        backtests: Every shard's backtest.
        checked: The catalogue's facts, training decision and plan.
        config: Run configuration.
        resources: The task's storage.

    Returns:
        The fit folder (the model below it), the shard, the ``winner`` and its
        ``plausibility``; or why the shard was skipped.
    """
    reason = skip_reason(features, checked, "fit")
    if reason:
        return Fitted(features.shard, skipped=True, reason=reason)
    from forecasting.storage import upload_dir
    from forecasting.training.shard import fit_shard, plausibility, shard_config

    storage, plan = resources.storage, checked.plan
    if plan.backtest:
        winner, _, _, _ = catalogue_winner(storage, backtests, plan.apply(config))
        own = next(b for b in backtests if b.shard == features.shard)
        calibrator = read_json(storage.open(own.uri) / BACKTEST_CANDIDATES)[winner]["calibrator"]
    else:  # too little history to backtest: the baseline, with its own intervals
        from forecasting.evaluation.calibration import IntervalCalibrator

        winner, calibrator = BASELINE_MODEL, IntervalCalibrator.identity().to_dict()
    panel = load_panel(storage, features.uri)
    shard = plan.apply(shard_config(config, features.series / checked.series))
    model = fit_shard(panel, shard, winner, calibrator)
    active = (
        panel.active_series(panel.last_history_index, config.active_days)
        if config.active_days
        else np.ones(panel.n_series, dtype=bool)
    )
    forecast = model.predict(panel, config.horizon, series=np.flatnonzero(active))
    check = plausibility(forecast, panel, config.promotion.plausibility_factor)
    with storage.write_stage(run_day, "fit", features.shard.name) as folder:
        with tempfile.TemporaryDirectory() as tmp:
            upload_dir(model.save(Path(tmp) / FIT_MODEL), folder / FIT_MODEL)
        write_json(folder / FIT_SUMMARY, {"winner": winner, "plausibility": check})
    return Fitted(features.shard, uri=storage.uri(folder), winner=winner, plausibility=check)
