"""Benchmark harness: our pipeline's models and open-source peers on the same windows.

``forecasting benchmark <dataset> --data-dir ../shared/data`` runs, for one real dataset:

1. our importer into a SQLite shop database, then our extraction (the incremental demand
   store and the per-shard extract: the same code the DAG runs) and panel;
2. every candidate of the daily pipeline on each shard (``--shards``, default 1), exactly as
   the DAG's ``backtest`` tasks do (rolling-origin windows, interval calibration on earlier
   windows), and the catalogue's metrics from every shard's statistics;
3. the peers (:mod:`forecasting_bench.peers`) on the same scored windows and series;
4. one table: RMSSE, MASE, WAPE, bias, scaled pinball loss at 0.1/0.5/0.9, P10-P90
   coverage, wall seconds and peak memory per model.

With ``--future-csv`` it also fits the model the pipeline would register (the catalogue's
winner, per shard) on the whole file and writes its forecasts of the 28 days after the
file's last date: ``forecast`` (expected units, what the pipeline publishes as
``forecast``; squared-error metrics belong on it) next to ``p10, p50, p90``.

On online-retail it also backtests forecasts of new products (cold start,
:mod:`forecasting_bench.launches`), and with ``--launches-csv`` appends planned launches'
rows to the ``--future-csv`` file.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasting.config import DEFAULT_MODELS, PipelineConfig
from forecasting.evaluation.backtest import (
    BacktestPlan,
    ModelBacktest,
    _window_frame,
    window_cutoffs,
)
from forecasting.evaluation.leadtime import (
    LEADTIME_LEVELS,
    LeadTimeCalibrator,
    leadtime_coverage,
    leadtime_totals,
    level_column,
)
from forecasting.evaluation.metrics import METRIC_COLUMNS, score_forecasts
from forecasting.features.panel import Panel
from forecasting.models.base import Forecaster
from forecasting.models.sharded import ShardedForecaster
from forecasting.names import BASELINE_MODEL
from forecasting.profiling import PeakMemory
from forecasting.sharding import shard_of_many
from forecasting.text.embedding import TextEmbedding
from forecasting.training import metrics_table, pick_winner
from forecasting.training.shard import backtest_shard, catalogue_metrics, fit_shard, shard_config
from forecasting_bench.datasets import (
    ACTIVE_DAYS,
    DATASETS,
    HORIZON,
    Dataset,
    dataset_keys,
    load_dataset,
    load_dataset_with_catalogue,
)
from forecasting_bench.launches import (
    append_launch_rows,
    format_launch_table,
    launch_backtest,
    read_launches_csv,
)

__all__ = ["DATASETS", "Dataset", "load_dataset", "run_benchmark"]

log = logging.getLogger(__name__)


def _history_frame(panel: Panel, cutoff: int) -> pd.DataFrame:
    """Long ``unique_id, ds, y`` of every series with history up to ``cutoff``.

    Peers need one value per day: a day our extraction excluded (an absurd quantity) is
    given the series' median of the 28 days before it; our models treat it as unknown.
    """
    y = panel.y[:, : cutoff + 1].copy()
    started = np.maximum.accumulate(~np.isnan(y), axis=1)
    gaps = started & np.isnan(y)
    if gaps.any():
        filled = pd.DataFrame(y.T).rolling(28, min_periods=1).median().shift(1).to_numpy().T
        y[gaps] = np.nan_to_num(filled[gaps])
    rows, cols = np.nonzero(started)
    return pd.DataFrame(
        {
            "unique_id": panel.ids["unique_id"].to_numpy()[rows],
            "ds": panel.dates[cols],
            "y": y[rows, cols],
        }
    )


def run_peer_backtest(name: str, panel: Panel, plan: BacktestPlan, seed: int = 0) -> ModelBacktest:
    """A peer on the scored windows of ``plan``, scored on the same series as ours."""
    from forecasting_bench.peers import run_peer

    cutoffs = window_cutoffs(panel, plan)[plan.calibration_windows :]
    frames, seconds = [], []
    with PeakMemory() as memory:
        for k, cutoff in enumerate(cutoffs, start=plan.calibration_windows):
            history = _history_frame(panel, cutoff)
            start = time.perf_counter()
            forecast = run_peer(name, history, plan.horizon, seed=seed)
            seconds.append(time.perf_counter() - start)
            pos = pd.Index(panel.ids["unique_id"]).get_indexer(forecast["unique_id"])
            forecast = forecast.assign(horizon=(forecast["ds"] - panel.dates[cutoff]).dt.days)
            active = (
                panel.active_series(cutoff, plan.active_days)
                if plan.active_days
                else np.ones(panel.n_series, bool)
            )
            forecast = forecast.loc[active[pos]]
            frames.append(_window_frame(panel, forecast, cutoff, k))
            log.info("peer %s window %d: %.1fs", name, k, seconds[-1])
    scored = pd.concat(frames, ignore_index=True)
    result = ModelBacktest(name, scored, scored=scored, fit_seconds=seconds)
    result.metrics = score_forecasts(scored)
    result.peak_memory_mb = memory.peak_mb
    return result


def format_table(table: pd.DataFrame) -> str:
    """Fixed-width text table of the results (lower is better except coverage)."""
    cols = ["model", *METRIC_COLUMNS, "seconds", "peak_memory_mb"]
    header = f"{'model':<22}" + "".join(f"{c:>15}" for c in cols[1:])
    lines = [header, "-" * len(header)]
    for _, row in table[cols].iterrows():
        lines.append(f"{row['model']:<22}" + "".join(f"{row[c]:>15.4f}" for c in cols[1:]))
    return "\n".join(lines)


def _shard_panels(panel: Panel, shards: int) -> list[Panel]:
    codes = shard_of_many(panel.ids["sku"].to_numpy(), shards)
    return [panel.subset(np.flatnonzero(codes == k)) for k in range(shards)]


def backtest_catalogue(
    panel: Panel, config: PipelineConfig, shards: int
) -> tuple[
    dict[str, dict[str, float]],
    dict[str, dict[str, Any]],
    list[dict[str, dict[str, Any]]],
    pd.DataFrame,
]:
    """Backtest every candidate shard by shard, as the DAG does.

    Returns:
        Catalogue metrics per candidate, per candidate seconds / peak memory / non-finite
        rows (all shards), each shard's candidate details (calibrators), and every
        shard's lead-time totals (:attr:`ShardBacktest.leadtime`).
    """
    stats: list[pd.DataFrame] = []
    leadtime: list[pd.DataFrame] = []
    per_shard: list[dict[str, dict[str, Any]]] = []
    info: dict[str, dict[str, Any]] = {}
    for k, sub in enumerate(_shard_panels(panel, shards)):
        if sub.n_series == 0:
            per_shard.append({})
            continue
        share = sub.n_series / panel.n_series
        result = backtest_shard(sub, shard_config(config, share), measure_memory=True)
        stats.append(result.stats)
        leadtime.append(result.leadtime)
        per_shard.append(result.candidates)
        for label, c in result.candidates.items():
            entry = info.setdefault(label, {"seconds": 0.0, "peak_memory_mb": 0.0, "nonfinite": 0})
            entry["seconds"] += c["seconds"]
            entry["peak_memory_mb"] = max(entry["peak_memory_mb"], c["peak_memory_mb"] or 0.0)
            entry["nonfinite"] += c["nonfinite"]
        log.info("shard %d/%d: %d series backtested", k + 1, shards, sub.n_series)
    metrics, _ = catalogue_metrics(pd.concat(stats, ignore_index=True))
    return metrics, info, per_shard, pd.concat(leadtime, ignore_index=True)


def fit_catalogue(
    panel: Panel,
    config: PipelineConfig,
    winner: str,
    per_shard: list[dict[str, dict[str, Any]]],
) -> Forecaster:
    """The winner fitted on each shard's whole history: the model the DAG registers."""
    from forecasting.models.naive import SeasonalNaive

    members: list[Forecaster] = []
    for sub, candidates in zip(_shard_panels(panel, len(per_shard)), per_shard, strict=True):
        if sub.n_series == 0:
            members.append(SeasonalNaive().fitted_empty())
        else:
            share = sub.n_series / panel.n_series
            members.append(
                fit_shard(
                    sub, shard_config(config, share), winner, candidates[winner]["calibrator"]
                )
            )
    return ShardedForecaster(members, winner)


def write_future_csv(
    panel: Panel, model: Forecaster, dataset: str, path: str | Path
) -> pd.DataFrame:
    """Forecast the 28 days after the panel's history and write them in the dataset's keys.

    Returns:
        The daily forecasts as written, plus ``unique_id`` and ``horizon``.
    """
    forecast = model.predict(panel, HORIZON)
    forecast = forecast.merge(panel.ids, on="unique_id", how="left")
    out, keys = dataset_keys(forecast, dataset)
    out["date"] = forecast["ds"].dt.strftime("%Y-%m-%d").to_numpy()
    for column in ("forecast", "p10", "p50", "p90", "unique_id", "horizon"):
        out[column] = forecast[column].to_numpy()
    for column in ("forecast", "p10", "p50", "p90"):
        out[column] = out[column].round(4)
    out = out.sort_values([*keys, "date"], ignore_index=True)
    out.loc[:, list(DATASETS[dataset].future_columns)].to_csv(path, index=False)
    log.info("wrote %d forecasts to %s", len(out), path)
    return out


def write_leadtime_csv(
    panel: Panel,
    future: pd.DataFrame,
    calibrator: LeadTimeCalibrator,
    dataset: str,
    path: str | Path,
) -> pd.DataFrame:
    """Quantiles of total demand over the first 7, 14 and 28 days after the file.

    Args:
        panel: The dataset's panel (series keys).
        future: :func:`write_future_csv`'s frame (``unique_id``, ``horizon``, ``forecast``).
        calibrator: Lead-time quantiles fitted on every backtest window of the winner.
        dataset: Dataset name (its series keys).
        path: CSV to write: keys, ``days``, ``p50,p80,p90,p95,p99``.
    """
    totals = calibrator.quantiles(
        leadtime_totals(future.loc[:, ["unique_id", "horizon", "forecast"]])
    )
    totals = totals.merge(panel.ids[["unique_id", "sku", "location_id"]], on="unique_id")
    out, keys = dataset_keys(totals, dataset)
    out["days"] = totals["days"].to_numpy()
    levels = [level_column(q) for q in LEADTIME_LEVELS]
    for column in levels:
        out[column] = totals[column].round(4).to_numpy()
    out = out.sort_values([*keys, "days"], ignore_index=True)
    out.loc[:, [*keys, "days", *levels]].to_csv(path, index=False)
    log.info("wrote %d lead-time rows to %s", len(out), path)
    return out


def format_leadtime_coverage(coverage: pd.DataFrame, model: str) -> str:
    """Text table of lead-time coverage: per level, the share of actual totals strictly
    below and at or below the quantile (a calibrated quantile of a count has the level
    between the two; they differ only where totals tie their quantile, e.g. at 0)."""
    levels = [level_column(q) for q in LEADTIME_LEVELS]
    lines = [
        f"Lead-time quantiles of {model}, backtest coverage (share of actual totals below / "
        "at or below each quantile; nominal = the level; each window calibrated on earlier "
        "windows only):",
        f"{'days':>6}{'totals':>9}" + "".join(f"{c:>14}" for c in levels),
    ]
    for _, row in coverage.iterrows():
        cells = "".join(f"{row[f'{c}_below']:>8.3f}/{row[c]:.3f}" for c in levels)
        lines.append(f"{int(row['days']):>6}{int(row['n']):>9}{cells}")
    return "\n".join(lines)


def run_benchmark(
    dataset: str,
    *,
    data_dir: str | Path,
    future_csv: str | Path | None = None,
    leadtime_csv: str | Path | None = None,
    windows: int = 3,
    max_series: int | None = None,
    models: tuple[str, ...] | None = None,
    peers: tuple[str, ...] | None = None,
    model_params: dict[str, dict[str, Any]] | None = None,
    output_dir: str | Path | None = None,
    shards: int = 1,
    launches_csv: str | Path | None = None,
) -> pd.DataFrame:
    """Run the benchmark and print the results table (see module docstring).

    Args:
        dataset: ``store-item-demand`` or ``online-retail``.
        data_dir: Folder holding the datasets (``../shared/data``).
        future_csv: Where to write forecasts of the 28 days after the file (optional).
        leadtime_csv: With ``future_csv``, where to write the quantiles of total demand
            over the first 7, 14 and 28 of those days (optional).
        windows: Scored 28-day windows at the end of the file.
        max_series: Keep only the first N series (smoke runs).
        models: Our candidates (default: the daily pipeline's).
        peers: Peers to run (default: all for the dataset).
        model_params: Per-model overrides.
        output_dir: Where the shop database, extract and results go.
        shards: Catalogue shards our models are trained on, one model per shard (as the
            DAG's mapped tasks do); peers always see the whole catalogue.
        launches_csv: With ``future_csv`` (online-retail): planned launches
            (``sku,description,unit_price,launch_date``) whose forecasts are appended to
            ``future_csv`` (see :mod:`forecasting_bench.launches`).

    Returns:
        The results table (also written as CSV next to the extract).
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose from {sorted(DATASETS)}")
    if launches_csv and not future_csv:
        raise ValueError("--launches-csv needs --future-csv (the file the launches join)")
    if launches_csv and dataset != "online-retail":
        raise ValueError("--launches-csv is for online-retail (store-item has no launches)")
    from forecasting.config import Settings

    work = Path(output_dir) if output_dir else Settings.from_env().data_dir / "bench" / dataset
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    panel, catalogue = load_dataset_with_catalogue(dataset, data_dir, work, max_series)
    launches = read_launches_csv(launches_csv, panel, HORIZON, catalogue) if launches_csv else None
    config = PipelineConfig(
        horizon=HORIZON,
        n_windows=windows,
        active_days=ACTIVE_DAYS,
        models=models or DEFAULT_MODELS,
        model_params=model_params or {},
        shards=shards,
    )
    plan = BacktestPlan.of(config)
    if leadtime_csv and not future_csv:
        raise ValueError("--leadtime-csv needs --future-csv (the forecasts it adds up)")
    metrics, info, per_shard, leadtime = backtest_catalogue(panel, config, shards)
    for name in peers if peers is not None else DATASETS[dataset].peers:
        peer = run_peer_backtest(name, panel, plan, seed=config.seed)
        metrics[f"peer:{name}"] = peer.metrics
        info[f"peer:{name}"] = {"seconds": peer.seconds, "peak_memory_mb": peer.peak_memory_mb}
    table = metrics_table(metrics, info)
    cutoffs = window_cutoffs(panel, plan)[plan.calibration_windows :]
    title = (
        f"{dataset}: {panel.n_series} series in {shards} shard(s), {windows} windows of "
        f"{HORIZON} days after cutoffs {', '.join(str(panel.dates[c].date()) for c in cutoffs)}; "
        f"series scored = positive demand in the {ACTIVE_DAYS} days before the cutoff"
    )
    text = f"{title}\n{format_table(table)}"
    disqualified = frozenset(k for k, v in info.items() if v.get("nonfinite"))
    winner = pick_winner(metrics, config.primary_metric, config.models, disqualified)
    winner_totals = leadtime.loc[leadtime["candidate"] == winner]
    coverage = leadtime_coverage(winner_totals, plan.calibration_windows)
    text += "\n\n" + format_leadtime_coverage(coverage, winner)
    coverage.to_csv(work / "leadtime_coverage.csv", index=False)
    # Every candidate's backtest totals, so the lead-time model can be studied without a re-run.
    leadtime.to_parquet(work / "leadtime_totals.parquet", index=False)
    launch_params, embedding = None, None
    if dataset == "online-retail":
        embedding = TextEmbedding.fit(catalogue)
        launch_table, launch_params = launch_backtest(
            panel, catalogue, list(cutoffs), HORIZON, embedding
        )
        launch_table.to_csv(work / "launch_backtest.csv", index=False)
        text += "\n\n" + format_launch_table(launch_table, launch_params)
    else:
        text += f"\n\nLaunches (cold start): {dataset} has no launches (every series starts "
        text += "with the file), nothing to backtest"
    if future_csv:
        if winner == BASELINE_MODEL:
            log.warning("no candidate beats seasonal naive; the pipeline would promote nothing")
        future = write_future_csv(
            panel, fit_catalogue(panel, config, winner, per_shard), dataset, future_csv
        )
        text += (
            f"\nFuture forecasts: {winner} fitted on all data -> {future_csv} ({len(future)} rows)"
        )
        if leadtime_csv:
            calibrator = LeadTimeCalibrator.fit(winner_totals)
            written = write_leadtime_csv(panel, future, calibrator, dataset, leadtime_csv)
            text += f"\nLead-time quantiles -> {leadtime_csv} ({len(written)} rows)"
        if launches is not None and launch_params is not None and embedding is not None:
            rows = append_launch_rows(
                panel,
                catalogue,
                launches,
                embedding,
                launch_params,
                HORIZON,
                future,
                DATASETS[dataset].future_columns,
                future_csv,
            )
            text += (
                f"\nLaunches: {len(launches)} planned products -> {future_csv} (+{len(rows)} rows)"
            )
    text += f"\nTotal wall time: {time.perf_counter() - started:.0f}s"
    print(text)
    table.to_csv(work / "results.csv", index=False)
    (work / "results.txt").write_text(text + "\n")
    return table
