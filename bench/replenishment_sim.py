"""Inventory simulation of the replenishment policy on the real datasets (issue 22).

Two stages; the first is slow and cached in ``--work-dir``:

1. **Backtest** (``forecasts.parquet``): our daily pipeline's candidate (``--model``,
   through :func:`forecasting.training.run_candidates`, exactly as the DAG's backtest runs
   it) on ``--windows`` scored windows of 28 days plus one calibration window, every
   window's daily forecasts (expected units ``forecast`` and the interval-calibrated
   ``p50``; each window calibrated on earlier windows only) with the actual demand.
2. **Simulation**: :func:`forecasting.replenishment.simulate.simulate_policies` on every
   window from the second on (the first only calibrates), both policies from the same
   forecasts: ours (order-up-to level from the lead-time calibrator fitted on earlier
   windows) and the reference (sum of daily P50 plus a normal safety stock on earlier
   windows' daily error spread).

Protocol: windows 1 to ``--select-windows`` are where choices may be made; the table
reported is the later windows, never tuned on. Commands as run (docs/numbers/replenishment.md)::

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/replenishment_sim.py \\
        store-item-demand --data-dir ../shared/data --model hgb --work-dir /tmp/repl_sid
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/replenishment_sim.py \\
        online-retail --data-dir ../shared/data --model hgb --work-dir /tmp/repl_ret
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd
from forecasting_bench.datasets import ACTIVE_DAYS, DATASETS, HORIZON, load_dataset

from forecasting.config import PipelineConfig
from forecasting.training import run_candidates

log = logging.getLogger("replenishment_sim")

FORECAST_COLUMNS = ["unique_id", "window", "horizon", "ds", "y", "forecast", "p50"]


def backtest_forecasts(
    dataset: str, data_dir: str, work_dir: Path, model: str, windows: int, max_series: int | None
) -> pd.DataFrame:
    """Every window's daily forecasts and actuals of ``model`` (stage 1)."""
    panel = load_dataset(dataset, data_dir, work_dir, max_series)
    config = PipelineConfig(
        horizon=HORIZON, n_windows=windows, active_days=ACTIVE_DAYS, models=(model,)
    )
    started = time.perf_counter()
    result = run_candidates(panel, config)[model]
    log.info("%s backtest of %s: %.0fs", model, dataset, time.perf_counter() - started)
    raw = result.raw.loc[:, ["unique_id", "window", "horizon", "ds", "y", "forecast", "p50"]]
    # Scored windows carry the interval-calibrated P50 (calibrated on earlier windows only),
    # the one the pipeline publishes; the calibration window keeps the raw one.
    calibrated = result.scored.loc[:, ["unique_id", "window", "horizon", "p50"]]
    out = raw.merge(
        calibrated, on=["unique_id", "window", "horizon"], how="left", suffixes=("_raw", "")
    )
    out["p50"] = out["p50"].fillna(out["p50_raw"])
    return out.loc[:, FORECAST_COLUMNS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--model", default="hgb", help="pipeline candidate (hgb, ensemble, ...)")
    parser.add_argument("--windows", type=int, default=6, help="scored windows")
    parser.add_argument("--select-windows", type=int, default=3, help="windows tuned on")
    parser.add_argument("--max-series", type=int, default=None)
    parser.add_argument("--lead-time", type=int, default=7)
    parser.add_argument("--service-level", type=float, default=0.95)
    parser.add_argument("--backtest-only", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"forecasts_{args.model}_{args.windows}.parquet"
    if path.exists():
        forecasts = pd.read_parquet(path)
    else:
        forecasts = backtest_forecasts(
            args.dataset, args.data_dir, work, args.model, args.windows, args.max_series
        )
        forecasts.to_parquet(path, index=False)
    log.info("%d forecast rows in %s", len(forecasts), path)
    if args.backtest_only:
        return


if __name__ == "__main__":
    main()
