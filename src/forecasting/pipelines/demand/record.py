"""What the date's MLflow run records about training: backtests, lead times, the model.

Used by the ``register`` step inside the date's run (every call logs to the active run).
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.artifacts import (
    BACKTEST_LAUNCHES,
    BACKTEST_LEADTIME,
    BACKTEST_LIVE_STATS,
    BACKTEST_PLOT,
    BACKTEST_PLOT_HISTORY,
    FEATURES_CATALOGUE,
    FEATURES_TEXT_MODEL,
    FIT_MODEL,
    LEADTIME_ARTIFACT,
    MLFLOW_BACKTEST_METRICS_CSV,
    MLFLOW_BACKTEST_METRICS_TABLE,
    MLFLOW_BACKTEST_PLOT,
    MLFLOW_BACKTEST_WINDOWS,
    MLFLOW_LAUNCH_BACKTEST,
    MLFLOW_LEADTIME_COVERAGE,
    MLFLOW_TEXT_DIR,
)
from forecasting.config import PipelineConfig
from forecasting.names import BASELINE_MODEL
from forecasting.pipelines.demand.common import catalogue_winner, load_panel
from forecasting.pipelines.demand.handoffs import Backtested, Fitted
from forecasting.registry.tracking import (
    log_figure,
    log_file,
    log_metrics,
    log_table,
    set_tags,
)
from forecasting.storage import Storage, read_parquet

__all__ = [
    "log_backtest",
    "log_launches",
    "log_leadtime",
    "log_sharded_model",
    "log_text_model",
]


def _prefixed(prefix: str, values: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{k}": v for k, v in values.items() if np.isfinite(v)}


def _concat(storage: Storage, done: list[Backtested], name: str) -> list[pd.DataFrame]:
    """Every shard's ``name`` file below its backtest folder (shards without one left out)."""
    paths = [storage.open(b.uri) / name for b in done]
    return [read_parquet(p) for p in paths if p.exists()]


def log_backtest(
    storage: Storage, backtests: list[Backtested], config: PipelineConfig
) -> tuple[str, dict[str, dict[str, float]], dict[str, float] | None, int]:
    """Log every candidate's backtest to the date's MLflow run: child runs, tables, the
    winner's plot and lead-time coverage, the serving champion's live accuracy.

    Returns:
        The winner, every candidate's metrics, the champion's live metrics (``None``
        without any) and the target days behind them.
    """
    from forecasting.evaluation.metrics import metrics_from_stats
    from forecasting.evaluation.plots import plot_backtest_frames
    from forecasting.registry.runs import log_candidates, log_frame
    from forecasting.training import candidate_config, metrics_table

    winner, metrics, windows, info = catalogue_winner(storage, backtests, config)
    configs = {name: candidate_config(config, name) for name in metrics}
    log_candidates(metrics, windows, configs, info)
    table = metrics_table(metrics, info)
    log_frame(table, MLFLOW_BACKTEST_METRICS_CSV)
    log_frame(windows, MLFLOW_BACKTEST_WINDOWS)
    log_table(table, MLFLOW_BACKTEST_METRICS_TABLE)
    done = [b for b in backtests if not b.skipped]
    plot = pd.concat(
        [read_parquet(storage.open(b.uri) / BACKTEST_PLOT) for b in done], ignore_index=True
    )
    history = pd.concat(
        [read_parquet(storage.open(b.uri) / BACKTEST_PLOT_HISTORY) for b in done],
        ignore_index=True,
    )
    figure = plot_backtest_frames(plot.loc[plot["candidate"] == winner], history)
    log_figure(figure, MLFLOW_BACKTEST_PLOT)
    log_leadtime(storage, done, winner, config)
    log_metrics(_prefixed("backtest", metrics[winner]))
    log_metrics(_prefixed("baseline", metrics[BASELINE_MODEL]))
    live_frames = _concat(storage, done, BACKTEST_LIVE_STATS)
    live_days = max((b.live_days for b in done), default=0)
    champion_live = None
    if live_frames and sum(len(f) for f in live_frames):
        champion_live = metrics_from_stats(pd.concat(live_frames, ignore_index=True))
        log_metrics(_prefixed("champion_live", champion_live))
    return winner, metrics, champion_live, live_days


def log_sharded_model(
    storage: Storage,
    run_day: date,
    done: list[Fitted],
    winner: str,
    config: PipelineConfig,
) -> str:
    """Every shard's fitted model as one pyfunc model in the active run; returns its URI."""
    from forecasting.models.base import load_forecaster
    from forecasting.models.naive import SeasonalNaive
    from forecasting.models.sharded import ShardedForecaster
    from forecasting.registry.pyfunc import log_forecaster
    from forecasting.storage import download_dir

    with tempfile.TemporaryDirectory() as tmp:
        by_shard = {
            f.shard.index: load_forecaster(
                download_dir(storage.open(f.uri) / FIT_MODEL, Path(tmp) / f"shard{f.shard.index}")
            )
            for f in done
        }
        count = done[0].shard.count
        # A shard without series today gets seasonal naive, so a SKU that hashes there later
        # still gets a forecast.
        members = [by_shard.get(k) or SeasonalNaive().fitted_empty() for k in range(count)]
        model = ShardedForecaster(members, winner)
        example = load_panel(storage, _features_uri(storage, run_day, done[0]))
        return log_forecaster(model, example, config.horizon)


def log_leadtime(
    storage: Storage, backtests: list[Backtested], winner: str, config: PipelineConfig
) -> None:
    """Fit the winner's lead-time quantiles on every shard's backtest totals; log their
    backtest coverage (each window calibrated on earlier ones) and the fitted model
    (``leadtime_calibration.json``, read back when scoring with this run's version)."""
    from forecasting.evaluation.leadtime import LeadTimeCalibrator, leadtime_coverage
    from forecasting.registry.runs import log_frame, log_json

    frames = _concat(storage, backtests, BACKTEST_LEADTIME)
    if not frames:
        return
    totals = pd.concat(frames, ignore_index=True)
    totals = totals.loc[totals["candidate"] == winner]
    coverage = leadtime_coverage(totals, config.calibration_windows)
    log_frame(coverage, MLFLOW_LEADTIME_COVERAGE)
    for row in coverage.to_dict(orient="records"):
        log_metrics(
            {
                f"leadtime_{int(row['days'])}d_coverage_{c}": float(row[c])
                for c in coverage.columns
                if c.startswith("p")
            }
        )
    log_json(LeadTimeCalibrator.fit(totals).to_dict(), LEADTIME_ARTIFACT)


def log_launches(storage: Storage, backtests: list[Backtested]) -> pd.DataFrame | None:
    """Log the cold-start backtest (every shard's table) and its metrics: per method,
    ``launch_wape_<method>`` and ``launch_rmsse_<method>`` over all windows (the mean of
    the shards' pooled values weighted by their launches: shards have disjoint products)
    and ``launch_count``.

    Returns:
        The logged table (``None`` when no shard backtested launches).
    """
    from forecasting.registry.runs import log_frame

    frames = _concat(storage, backtests, BACKTEST_LAUNCHES)
    if frames and not any(len(f) for f in frames):
        set_tags({"launch_backtest": "no product first sold inside a backtest window"})
    frames = [f for f in frames if len(f)]
    if not frames:
        return None
    table = pd.concat(frames, ignore_index=True)
    log_frame(table, MLFLOW_LAUNCH_BACKTEST)
    pooled = table.loc[(table["window"].astype(str) == "all") & (table["launches"] > 0)]
    metrics: dict[str, float] = {}
    for method, rows in pooled.groupby("method"):
        weights = rows["launches"].to_numpy(float)
        for metric in ("wape", "rmsse"):
            values = rows[metric].to_numpy(float)
            ok = np.isfinite(values)
            if ok.any():
                metrics[f"launch_{metric}_{method}"] = float(
                    np.average(values[ok], weights=weights[ok])
                )
        metrics["launch_count"] = float(weights.sum())
    log_metrics(metrics)
    return table


def log_text_model(storage: Storage, run_day: date, fitted: Fitted) -> bool:
    """Log the run's text model and the catalogue it was fitted on (every shard fits the
    same one: the first shard's) below ``text/``; ``False`` when there is none."""
    folder = storage.open(_features_uri(storage, run_day, fitted))
    if not (folder / FEATURES_TEXT_MODEL).exists():
        return False
    with tempfile.TemporaryDirectory() as tmp:
        for name in (FEATURES_TEXT_MODEL, FEATURES_CATALOGUE):
            if (folder / name).exists():
                local = Path(tmp) / name
                local.write_bytes((folder / name).read_bytes())
                log_file(local, MLFLOW_TEXT_DIR)
    return True


def _features_uri(storage: Storage, run_day: date, fitted: Fitted) -> str:
    committed = storage.committed(run_day, "features", fitted.shard.name)
    if committed is None:
        raise RuntimeError(f"features of {fitted.shard.name} for {run_day} are missing")
    return storage.uri(committed)
