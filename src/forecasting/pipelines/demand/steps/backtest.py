"""Step ``backtest`` (per shard): every candidate on rolling-origin windows."""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from forecasting.artifacts import (
    BACKTEST_CANDIDATES,
    BACKTEST_LAUNCHES,
    BACKTEST_LEADTIME,
    BACKTEST_LIVE_STATS,
    BACKTEST_PLOT,
    BACKTEST_PLOT_HISTORY,
    BACKTEST_STATS,
)
from forecasting.config import REGISTERED_MODEL_NAME, PipelineConfig
from forecasting.db import retrying
from forecasting.pipelines.demand.common import load_panel, load_text, skip_reason
from forecasting.pipelines.demand.handoffs import Backtested, Checked, Features
from forecasting.resources import Resources
from forecasting.storage import write_json, write_parquet

if TYPE_CHECKING:
    import pandas as pd

    from forecasting.features.panel import Panel
    from forecasting.storage import Storage

__all__ = ["backtest_step"]

log = logging.getLogger(__name__)


def backtest_step(
    run_day: date,
    features: Features,
    checked: Checked,
    config: PipelineConfig,
    resources: Resources,
) -> Backtested:
    """*Per shard*: backtest every candidate; score the serving champion's live forecasts.

    Skipped when the training decision says the run scores with an existing version, or
    the shop's history is too short to backtest (see :mod:`forecasting.training.plan`).

    Args:
        run_day: The run's day.
        features: The shard's features.
        checked: The catalogue's facts, training decision and plan.
        config: Run configuration.
        resources: The task's warehouse and storage.

    Returns:
        The backtest folder, the shard, its ``series`` and the champion's ``live_days``.
    """
    reason = skip_reason(features, checked, "backtest")
    if reason:
        return Backtested(features.shard, skipped=True, reason=reason)
    plan = checked.plan
    if not plan.backtest:
        log.info("backtest skipped: %s", plan.reason)
        return Backtested(features.shard, skipped=True, reason=plan.reason)
    from forecasting.evaluation.live import live_stats
    from forecasting.training.shard import backtest_shard, shard_config

    storage = resources.storage
    panel = load_panel(storage, features.uri)
    share = features.series / checked.series
    result = backtest_shard(
        panel, plan.apply(shard_config(config, share)), min_train_days=plan.min_train_days
    )
    launches = _launch_backtest(panel, features, plan.apply(config), plan.min_train_days, storage)
    champion = checked.champion
    live, live_days = None, 0
    if champion and champion.promoted_on:
        promoted_on = date.fromisoformat(champion.promoted_on)
        live, live_days = retrying(
            lambda: live_stats(
                resources.warehouse,
                REGISTERED_MODEL_NAME,
                champion.version,
                promoted_on,
                run_day,
                panel,
            ),
            "read published forecasts",
            resources.settings.warehouse_url,
        )
    with storage.write_stage(run_day, "backtest", features.shard.name) as folder:
        write_parquet(result.stats, folder / BACKTEST_STATS)
        write_json(folder / BACKTEST_CANDIDATES, result.candidates)
        write_parquet(result.plot, folder / BACKTEST_PLOT)
        write_parquet(result.plot_history, folder / BACKTEST_PLOT_HISTORY)
        write_parquet(result.leadtime, folder / BACKTEST_LEADTIME)
        if live is not None:
            write_parquet(live, folder / BACKTEST_LIVE_STATS)
        if launches is not None:
            write_parquet(launches, folder / BACKTEST_LAUNCHES)
    return Backtested(
        features.shard, uri=storage.uri(folder), series=panel.n_series, live_days=live_days
    )


def _launch_backtest(
    panel: Panel,
    features: Features,
    config: PipelineConfig,
    min_train_days: int | None,
    storage: Storage,
) -> pd.DataFrame | None:
    """The shard's new products of every backtest window forecast as launches known in
    advance, against the zero, median-curve and category-curve baselines
    (:func:`forecasting.text.launch.backtest_launches`); ``None`` without a text model."""
    from forecasting.evaluation.backtest import BacktestPlan, window_cutoffs
    from forecasting.text.launch import backtest_launches

    text = load_text(storage, features)
    if text is None:
        return None
    products, embedding = text
    plan = BacktestPlan.of(config, min_train_days)
    cutoffs = window_cutoffs(panel, plan)[plan.calibration_windows :]
    table = backtest_launches(panel, products, cutoffs, config.horizon, embedding)
    return table.assign(shard=features.shard.index)
