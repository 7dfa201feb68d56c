"""Inventory simulation of the replenishment policy on the real datasets (issue 22).

Two stages; the first is slow and cached in ``--work-dir``:

1. **Backtest** (``forecasts_<model>_<windows>.parquet``): our daily pipeline's candidate (``--model``,
   through :func:`forecasting.training.run_candidates`, exactly as the DAG's backtest runs
   it) on ``--windows`` scored windows of 28 days plus one calibration window, every
   window's daily forecasts (expected units ``forecast`` and the interval-calibrated
   ``p50``; each window calibrated on earlier windows only) with the actual demand.
2. **Simulation**: :func:`forecasting.replenishment.simulate.simulate_policies` on every
   window from the second on (the first only calibrates), both policies from the same
   forecasts: ours (order-up-to level from the lead-time calibrator fitted on earlier
   windows) and the reference (sum of daily P50 plus a normal safety stock on earlier
   windows' daily error spread).

Protocol: window 0 only calibrates; windows 1 to ``--select-windows`` are where choices
may be made (the target that gives the goal's service is chosen there); the later windows
are reported, never tuned on. Besides the per-window tables (lost sales and backorders) it
prints both policies' service and stock over a range of targets, and each policy at the
target chosen on the select windows. Commands as run (docs/numbers/replenishment.md)::

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/replenishment_sim.py \\
        store-item-demand --data-dir ../shared/data --model ensemble --work-dir /tmp/repl_sid_ens
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/replenishment_sim.py \\
        online-retail --data-dir ../shared/data --model ensemble --work-dir /tmp/repl_ret
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/replenishment_sim.py \\
        store-item-demand --data-dir ../shared/data --model hgb --work-dir /tmp/repl_sid
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from forecasting_bench.datasets import ACTIVE_DAYS, DATASETS, HORIZON, load_dataset

from forecasting.config import PipelineConfig
from forecasting.replenishment.simulate import POLICIES, simulate_policies, summarise
from forecasting.training import run_candidates

log = logging.getLogger("replenishment_sim")

#: Targets of the service-versus-stock curve.
FRONTIER_LEVELS = (0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99)
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


def simulate(
    forecasts: pd.DataFrame,
    lead_time: int,
    service_level: float,
    select_windows: int,
    lost_sales: bool = True,
) -> pd.DataFrame:
    """Both policies on every window after the first; one row per window and policy plus
    the pooled ``select`` and ``report`` rows."""
    rows, pooled = [], []
    for window in sorted(int(w) for w in forecasts["window"].unique())[1:]:
        started = time.perf_counter()
        ids, results = simulate_policies(
            forecasts, window, lead_time, service_level, lost_sales=lost_sales
        )
        split = "select" if window <= select_windows else "report"
        for policy in POLICIES:
            per_series = results[policy].per_series().assign(unique_id=ids)
            pooled.append(per_series.assign(policy=policy, split=split))
            rows.append(
                {"split": split, "window": str(window), "policy": policy, **summarise(per_series)}
            )
        log.debug("window %d: %d series, %.1fs", window, len(ids), time.perf_counter() - started)
    everything = pd.concat(pooled, ignore_index=True)
    for (split, policy), part in everything.groupby(["split", "policy"], sort=False):
        rows.append(
            {"split": str(split), "window": "all", "policy": str(policy), **summarise(part)}
        )
    return pd.DataFrame(rows)


def frontier(forecasts: pd.DataFrame, lead_time: int, select_windows: int) -> pd.DataFrame:
    """Lost-sales service and stock of both policies over a range of targets, pooled over
    the select windows and over the report windows."""
    rows = []
    for level in FRONTIER_LEVELS:
        table = simulate(forecasts, lead_time, level, select_windows)
        for _, row in table.loc[table["window"] == "all"].iterrows():
            rows.append(
                {
                    "split": row["split"],
                    "policy": row["policy"],
                    "target": level,
                    "cycle_service_level": row["cycle_service_level"],
                    "fill_rate": row["fill_rate"],
                    "average_on_hand": row["average_on_hand"],
                }
            )
    return pd.DataFrame(rows)


def stock_at(curve: pd.DataFrame, goal: float) -> dict[str, float]:
    """Per policy, the average stock at ``goal`` achieved service (linear between the two
    targets around it)."""
    out = {}
    for policy, part in curve.groupby("policy"):
        part = part.sort_values("cycle_service_level")
        out[str(policy)] = float(
            np.interp(goal, part["cycle_service_level"], part["average_on_hand"])
        )
    return out


def chosen_targets(curve: pd.DataFrame, goal: float) -> dict[str, float]:
    """Per policy, the target whose lost-sales service on the *select* windows is ``goal``
    (linear between grid targets; clamped to the grid)."""
    out = {}
    select = curve.loc[curve["split"] == "select"]
    for policy, part in select.groupby("policy"):
        part = part.sort_values("cycle_service_level")
        out[str(policy)] = float(np.interp(goal, part["cycle_service_level"], part["target"]))
    return out


def held_out(
    forecasts: pd.DataFrame, lead_time: int, select_windows: int, targets: dict[str, float]
) -> pd.DataFrame:
    """Each policy at its chosen target, pooled over the report windows (lost sales)."""
    rows = []
    for policy, target in targets.items():
        table = simulate(forecasts, lead_time, target, select_windows)
        row = table.loc[
            (table["window"] == "all") & (table["split"] == "report") & (table["policy"] == policy)
        ].iloc[0]
        rows.append({"target": round(target, 4), **row.to_dict()})
    return pd.DataFrame(rows)


def _cutoffs(forecasts: pd.DataFrame) -> str:
    first = forecasts.groupby("window")["ds"].min() - pd.Timedelta(days=1)
    return ", ".join(f"{w}: {d.date()}" for w, d in first.items())


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
    pd.set_option("display.width", 200)
    print(
        f"{args.dataset}, {args.model}, L={args.lead_time} R=1, target "
        f"{args.service_level:.2f}; window cutoffs {_cutoffs(forecasts)}; window 0 only "
        f"calibrates, windows 1-{args.select_windows} select, later windows report"
    )
    for lost_sales in (True, False):
        table = simulate(
            forecasts, args.lead_time, args.service_level, args.select_windows, lost_sales
        )
        mode = "lost_sales" if lost_sales else "backorders"
        table.to_csv(work / f"simulation_{args.model}_L{args.lead_time}_{mode}.csv", index=False)
        print(f"\n{mode}:")
        print(table.round(4).to_string(index=False))
    curve = frontier(forecasts, args.lead_time, args.select_windows)
    curve.to_csv(work / f"frontier_{args.model}_L{args.lead_time}.csv", index=False)
    for split in ("select", "report"):
        wide = curve.loc[curve["split"] == split].drop(columns="split")
        wide = wide.pivot(index="target", columns="policy")
        wide.columns = [f"{policy}_{metric}" for metric, policy in wide.columns]
        print(f"\nlost sales, {split} windows pooled, by target:")
        print(wide.round(4).to_string())
    report = curve.loc[curve["split"] == "report"]
    for policy, stock in stock_at(report, args.service_level).items():
        print(
            f"{policy}: average stock {stock:.3f} at {args.service_level:g} achieved service "
            "(report windows, interpolated)"
        )
    targets = chosen_targets(curve, args.service_level)
    print(
        f"\nlost sales, each policy at the target that gave {args.service_level:g} days in "
        f"stock on the select windows {targets}, report windows:"
    )
    print(
        held_out(forecasts, args.lead_time, args.select_windows, targets)
        .round(4)
        .to_string(index=False)
    )


if __name__ == "__main__":
    main()
