"""Training on one catalogue shard: backtest every candidate, fit the chosen one.

The DAG runs these in mapped tasks, one per shard, and hands over only small summaries:

* :func:`backtest_shard` -> per candidate, the per-series-and-window statistics every
  metric is computed from (:func:`forecasting.evaluation.metrics.series_window_stats`),
  the interval calibrator, and a few series to plot;
* :func:`catalogue_metrics` -> the catalogue's metrics from all shards' statistics:
  exactly what scoring the whole catalogue at once gives;
* :func:`forecasting.training.train.pick_winner` on those metrics -> one candidate for the
  whole catalogue (the same choice a single unsharded run makes);
* :func:`fit_shard` -> the winner fitted on the shard's full history, with its calibrator,
  and :func:`plausibility` of its forecast.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecasting.config import PipelineConfig
from forecasting.evaluation.calibration import IntervalCalibrator
from forecasting.evaluation.leadtime import leadtime_totals
from forecasting.evaluation.metrics import metrics_from_stats, series_window_stats
from forecasting.features.panel import Panel
from forecasting.models.calibrated import CalibratedForecaster
from forecasting.training.train import candidate_params, fit_final, run_candidates

__all__ = [
    "MIN_SHARD_ROWS",
    "ShardBacktest",
    "backtest_shard",
    "catalogue_metrics",
    "fit_shard",
    "plausibility",
    "shard_config",
]

log = logging.getLogger(__name__)

#: A shard's models never train on fewer rows than this (unless the shard has fewer).
MIN_SHARD_ROWS = 50_000
#: Series per shard drawn in the backtest plot (the highest-volume ones).
PLOT_SERIES = 4
#: Days of history drawn before the plotted window.
PLOT_HISTORY_DAYS = 56


@dataclass
class ShardBacktest:
    """What one shard's backtest hands over.

    Attributes:
        stats: Per candidate, per series and window statistics (``candidate`` column plus
            :func:`series_window_stats` columns).
        candidates: Per candidate: ``calibrator`` (dict), ``nonfinite`` rows, ``seconds``,
            ``peak_memory_mb``.
        plot: Scored forecasts of the last window for the shard's top series, every
            candidate (``candidate, unique_id, ds, y, forecast, p10, p50, p90``).
        plot_history: Actuals of those series before the window (``unique_id, ds, y``).
        leadtime: Per candidate, forecast and actual totals over each lead time of every
            window (``candidate`` plus :func:`~forecasting.evaluation.leadtime.leadtime_totals`
            columns): what the lead-time quantiles are fitted and scored on.
    """

    stats: pd.DataFrame
    candidates: dict[str, dict[str, Any]]
    plot: pd.DataFrame = field(default_factory=pd.DataFrame)
    plot_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    leadtime: pd.DataFrame = field(default_factory=pd.DataFrame)


def shard_config(config: PipelineConfig, share: float) -> PipelineConfig:
    """The configuration a shard trains with: each model's training-row cap (``max_rows``)
    times the shard's share of the catalogue's series (at least :data:`MIN_SHARD_ROWS`).

    The catalogue then trains on about as many rows in total as one unsharded model
    would, so sharding spreads the work over workers instead of multiplying it.
    """
    if share >= 1.0:
        return config
    from forecasting.models.zoo import make_model
    from forecasting.names import MODEL_NAMES

    params = {k: dict(v) for k, v in config.model_params.items()}
    for name in MODEL_NAMES:
        model = make_model(name, horizon=config.horizon, params=params.get(name))
        base = model.get_params(deep=False).get("max_rows")
        if base:
            params.setdefault(name, {})["max_rows"] = max(
                MIN_SHARD_ROWS, int(np.ceil(base * share))
            )
    return config.model_copy(update={"model_params": params})


def backtest_shard(
    panel: Panel,
    config: PipelineConfig,
    measure_memory: bool = False,
    min_train_days: int | None = None,
) -> ShardBacktest:
    """Backtest every candidate of ``config`` on one shard's panel (see
    :func:`~forecasting.training.train.run_candidates` for ``min_train_days``)."""
    results = run_candidates(
        panel, config, measure_memory=measure_memory, min_train_days=min_train_days
    )
    stats = pd.concat(
        [series_window_stats(r.scored).assign(candidate=label) for label, r in results.items()],
        ignore_index=True,
    )
    candidates = {
        label: {
            "calibrator": r.calibrator.to_dict(),
            "nonfinite": r.nonfinite,
            "seconds": r.seconds,
            "peak_memory_mb": r.peak_memory_mb,
        }
        for label, r in results.items()
    }
    first = next(iter(results.values())).scored
    last = first.loc[first["window"] == first["window"].max()]
    top = last.groupby("unique_id")["y"].sum().sort_values(ascending=False).index[:PLOT_SERIES]
    plot = pd.concat(
        [
            r.scored.loc[
                (r.scored["window"] == r.scored["window"].max()) & r.scored["unique_id"].isin(top),
                ["unique_id", "ds", "y", "forecast", "p10", "p50", "p90"],
            ].assign(candidate=label)
            for label, r in results.items()
        ],
        ignore_index=True,
    )
    history = pd.DataFrame(columns=["unique_id", "ds", "y"])
    if len(top):
        start = pd.Timestamp(last["ds"].min()) - pd.Timedelta(days=PLOT_HISTORY_DAYS)
        days = np.flatnonzero((panel.dates >= start) & (panel.dates < last["ds"].min()))
        rows = pd.Index(panel.ids["unique_id"]).get_indexer(top)
        history = pd.DataFrame(
            {
                "unique_id": np.repeat(np.asarray(top), len(days)),
                "ds": np.tile(panel.dates[days].to_numpy(), len(top)),
                "y": panel.y[np.ix_(rows, days)].ravel(),
            }
        )
    leadtime = pd.concat(
        [leadtime_totals(r.raw).assign(candidate=label) for label, r in results.items()],
        ignore_index=True,
    )
    return ShardBacktest(stats, candidates, plot, history, leadtime)


def catalogue_metrics(
    stats: pd.DataFrame,
) -> tuple[dict[str, dict[str, float]], pd.DataFrame]:
    """Metrics per candidate over the whole catalogue, and per candidate and window.

    Args:
        stats: Every shard's :attr:`ShardBacktest.stats`, concatenated.

    Returns:
        ``metrics[candidate]`` and a table with one row per candidate and window.
    """
    metrics: dict[str, dict[str, float]] = {}
    windows = []
    for label, part in stats.groupby("candidate", sort=False):
        metrics[str(label)] = metrics_from_stats(part)
        for window, wpart in part.groupby("window"):
            windows.append({"model": label, "window": window, **metrics_from_stats(wpart)})
    return metrics, pd.DataFrame(windows)


def fit_shard(
    panel: Panel, config: PipelineConfig, winner: str, calibrator: dict[str, Any]
) -> CalibratedForecaster:
    """Fit the winner on the shard's whole history, with the calibrator of its backtest."""
    from forecasting.evaluation.backtest import ModelBacktest

    backtest = ModelBacktest(winner, pd.DataFrame(), calibrator=IntervalCalibrator(**calibrator))
    return fit_final(panel, config, winner, candidate_params(config, winner), backtest)


def plausibility(
    forecast: pd.DataFrame, panel: Panel, factor: float, examples: int = 5
) -> dict[str, Any]:
    """Check a refit's forecast against each series' own history.

    A series is implausible when its forecast on any day exceeds ``factor`` times the
    largest daily demand it had in the last 364 days (at least one unit), or when the
    forecast is NaN or infinite.

    Returns:
        ``series`` checked, ``implausible`` and ``nonfinite`` counts, and up to
        ``examples`` offending series with their largest forecast and reference.
    """
    last = panel.last_history_index
    recent = panel.y[:, max(0, last - 363) : last + 1]
    with np.errstate(all="ignore"):
        peak = np.nan_to_num(np.nanmax(np.where(np.isnan(recent), -np.inf, recent), axis=1))
    peak = pd.Series(np.maximum(peak, 1.0), index=panel.ids["unique_id"].to_numpy())
    values = forecast[["forecast", "p90"]].to_numpy(float)
    finite = np.isfinite(values).all(axis=1)
    by_series = (
        pd.DataFrame(
            {
                "unique_id": forecast["unique_id"].to_numpy(),
                "top": np.where(finite, values.max(axis=1), np.inf),
                "nonfinite": ~finite,
            }
        )
        .groupby("unique_id")
        .agg(top=("top", "max"), nonfinite=("nonfinite", "sum"))
    )
    reference = peak.reindex(by_series.index).to_numpy()
    bad = (by_series["top"].to_numpy() > factor * reference) | (by_series["nonfinite"] > 0)
    offenders = by_series.loc[bad].assign(reference=reference[bad]).head(examples)
    return {
        "series": len(by_series),
        "implausible": int(bad.sum()),
        "nonfinite": int(by_series["nonfinite"].sum()),
        "factor": factor,
        "examples": [
            {
                "series": str(uid),
                "largest_forecast": float(row["top"]),
                "largest_daily_demand_last_year": float(row["reference"]),
            }
            for uid, row in offenders.iterrows()
        ],
    }
