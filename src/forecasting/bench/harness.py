"""Benchmark harness: our pipeline's models and open-source peers on the same windows.

``forecasting benchmark <dataset> --data-dir ../shared/data`` runs, for one real dataset:

1. our importer into a SQLite shop database, then our extraction SQL and panel (the same
   code the DAG runs);
2. every candidate of the daily pipeline through :func:`forecasting.training.run_candidates`
   (rolling-origin windows, interval calibration on earlier windows);
3. the peers (:mod:`forecasting.bench.peers`) on the same scored windows and series;
4. one table: RMSSE, MASE, WAPE, bias, scaled pinball loss at 0.1/0.5/0.9, P10-P90
   coverage, wall seconds and peak memory per model.

With ``--future-csv`` it also fits the model the pipeline would promote on the whole file
and writes its forecasts of the 28 days after the file's last date.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasting.config import DEFAULT_MODELS, PipelineConfig
from forecasting.db import make_engine
from forecasting.evaluation.backtest import (
    BacktestPlan,
    ModelBacktest,
    _window_frame,
    window_cutoffs,
)
from forecasting.evaluation.metrics import METRIC_COLUMNS, score_forecasts
from forecasting.extraction import ExtractWindow, extract_partition, read_partition
from forecasting.features.panel import Panel
from forecasting.profiling import PeakMemory
from forecasting.sources import ShopData, load_shop
from forecasting.training.train import fit_final, metrics_table, pick_winner, run_candidates

__all__ = ["DATASETS", "Dataset", "load_dataset", "run_benchmark"]

log = logging.getLogger(__name__)

HORIZON = 28
ACTIVE_DAYS = 90


@dataclass(frozen=True)
class Dataset:
    """How one real dataset enters the benchmark."""

    name: str
    peers: tuple[str, ...]
    future_columns: tuple[str, ...]


DATASETS = {
    "store-item-demand": Dataset(
        "store-item-demand",
        ("sf_seasonal_naive", "auto_ets", "mlf_lgbm"),
        ("store", "item", "date", "p10", "p50", "p90"),
    ),
    "online-retail": Dataset(
        "online-retail",
        ("sf_seasonal_naive", "auto_ets", "croston", "imapa", "adida", "mlf_lgbm"),
        ("sku", "date", "p10", "p50", "p90"),
    ),
}


def _shop(dataset: str, data_dir: str | Path) -> ShopData:
    if dataset == "store-item-demand":
        from forecasting.sources.store_item import (
            find_store_item_file,
            read_store_item_demand,
            store_item_shop,
        )

        return store_item_shop(read_store_item_demand(find_store_item_file(data_dir)))
    if dataset == "online-retail":
        from forecasting.sources.online_retail import (
            find_online_retail_file,
            online_retail_shop,
            read_online_retail,
        )

        return online_retail_shop(read_online_retail(find_online_retail_file(data_dir)))
    raise ValueError(f"unknown dataset {dataset!r}; choose from {sorted(DATASETS)}")


def load_dataset(
    dataset: str, data_dir: str | Path, work_dir: Path, max_series: int | None = None
) -> Panel:
    """Import a dataset into a SQLite shop and extract it with the pipeline's SQL.

    Returns:
        The panel of the whole file, with 28 future days of covariates.
    """
    shop = _shop(dataset, data_dir)
    last_day = pd.Timestamp(shop.orders["ordered_at"].max()).date()
    first_day = pd.Timestamp(shop.orders["ordered_at"].min()).date()
    engine = make_engine(f"sqlite:///{work_dir / 'shop.db'}")
    start = time.perf_counter()
    load_shop(engine, shop)
    window = ExtractWindow.for_logical_date(last_day, (last_day - first_day).days + 1, HORIZON)
    result = extract_partition(engine, window, work_dir / "extract")
    demand, future, events, _ = read_partition(result.path)
    if max_series:
        keep = sorted(demand["unique_id"].unique())[:max_series]
        demand = demand.loc[demand["unique_id"].isin(keep)]
        future = future.loc[future["unique_id"].isin(keep)]
    panel = Panel.from_long(demand, future, events)
    log.info(
        "%s: %d series x %d days loaded and extracted in %.1fs",
        dataset,
        panel.n_series,
        panel.n_history,
        time.perf_counter() - start,
    )
    return panel


def _history_frame(panel: Panel, cutoff: int) -> pd.DataFrame:
    """Long ``unique_id, ds, y`` of every series with history up to ``cutoff``."""
    y = panel.y[:, : cutoff + 1]
    rows, cols = np.nonzero(~np.isnan(y))
    return pd.DataFrame(
        {
            "unique_id": panel.ids["unique_id"].to_numpy()[rows],
            "ds": panel.dates[cols],
            "y": y[rows, cols],
        }
    )


def run_peer_backtest(name: str, panel: Panel, plan: BacktestPlan, seed: int = 0) -> ModelBacktest:
    """A peer on the scored windows of ``plan``, scored on the same series as ours."""
    from forecasting.bench.peers import run_peer

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


def write_future_csv(
    panel: Panel,
    config: PipelineConfig,
    results: dict[str, ModelBacktest],
    dataset: str,
    path: str | Path,
) -> tuple[str, pd.DataFrame]:
    """Fit the candidate the pipeline would promote on all data; forecast the next 28 days."""
    from forecasting.training.train import BASELINE, candidate_params

    winner = pick_winner(
        results, config.primary_metric, exclude=tuple(k for k in results if k not in config.models)
    )
    if winner == BASELINE:
        log.warning(
            "no candidate beats seasonal naive; the pipeline would promote nothing, writing it anyway"
        )
    model = fit_final(panel, config, winner, candidate_params(config, winner), results[winner])
    forecast = model.predict(panel, HORIZON)
    forecast = forecast.merge(panel.ids, on="unique_id", how="left")
    out = pd.DataFrame({"date": forecast["ds"].dt.strftime("%Y-%m-%d")})
    if dataset == "store-item-demand":
        out.insert(0, "store", forecast["location_id"].str.removeprefix("store-").astype(int))
        out.insert(1, "item", forecast["sku"].str.removeprefix("item-").astype(int))
        sort = ["store", "item", "date"]
    else:
        out.insert(0, "sku", forecast["sku"])
        sort = ["sku", "date"]
    for q in ("p10", "p50", "p90"):
        out[q] = forecast[q].round(4).to_numpy()
    out = out.sort_values(sort, ignore_index=True)
    out.loc[:, list(DATASETS[dataset].future_columns)].to_csv(path, index=False)
    log.info("wrote %d forecasts of %s to %s", len(out), winner, path)
    return winner, out


def run_benchmark(
    dataset: str,
    *,
    data_dir: str | Path,
    future_csv: str | Path | None = None,
    windows: int = 3,
    max_series: int | None = None,
    models: tuple[str, ...] | None = None,
    peers: tuple[str, ...] | None = None,
    model_params: dict[str, dict[str, Any]] | None = None,
    output_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Run the benchmark and print the results table (see module docstring).

    Args:
        dataset: ``store-item-demand`` or ``online-retail``.
        data_dir: Folder holding the datasets (``../shared/data``).
        future_csv: Where to write forecasts of the 28 days after the file (optional).
        windows: Scored 28-day windows at the end of the file.
        max_series: Keep only the first N series (smoke runs).
        models: Our candidates (default: the daily pipeline's).
        peers: Peers to run (default: all for the dataset).
        model_params: Per-model overrides.
        output_dir: Where the shop database, extract and results go.

    Returns:
        The results table (also written as CSV and Markdown next to the extract).
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose from {sorted(DATASETS)}")
    from forecasting.config import Settings

    work = Path(output_dir) if output_dir else Settings.from_env().data_dir / "bench" / dataset
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    panel = load_dataset(dataset, data_dir, work, max_series)
    config = PipelineConfig(
        horizon=HORIZON,
        n_windows=windows,
        active_days=ACTIVE_DAYS,
        models=models or DEFAULT_MODELS,
        model_params=model_params or {},
    )
    plan = BacktestPlan(
        config.horizon, config.n_windows, config.calibration_windows, config.active_days
    )
    results = run_candidates(panel, config, measure_memory=True)
    for name in peers if peers is not None else DATASETS[dataset].peers:
        results[f"peer:{name}"] = run_peer_backtest(name, panel, plan, seed=config.seed)
    table = metrics_table(results)
    cutoffs = window_cutoffs(panel, plan)[plan.calibration_windows :]
    title = (
        f"{dataset}: {panel.n_series} series, {windows} windows of {HORIZON} days after cutoffs "
        f"{', '.join(str(panel.dates[c].date()) for c in cutoffs)}; series scored = positive demand "
        f"in the {ACTIVE_DAYS} days before the cutoff"
    )
    text = f"{title}\n{format_table(table)}"
    if future_csv:
        winner, future = write_future_csv(panel, config, results, dataset, future_csv)
        text += (
            f"\nFuture forecasts: {winner} fitted on all data -> {future_csv} ({len(future)} rows)"
        )
    text += f"\nTotal wall time: {time.perf_counter() - started:.0f}s"
    print(text)
    table.to_csv(work / "results.csv", index=False)
    (work / "results.txt").write_text(text + "\n")
    return table
