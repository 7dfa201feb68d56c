"""What products' text and the launch model cost a daily run at Online Retail's size.

Times the three calls the demand pipeline makes: fitting the text model (build_features),
the launch backtest of three windows (backtest, on training days) and the new products'
forecasts (score). Prints the reported windows' launch table too. Run from the
repository root: ``.venv/bin/python bench/text_costs.py [--data-dir ../shared/data]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from forecasting_bench.datasets import ACTIVE_DAYS, HORIZON, load_dataset_with_catalogue

from forecasting.config import PipelineConfig
from forecasting.evaluation.backtest import BacktestPlan, window_cutoffs
from forecasting.profiling import PeakMemory
from forecasting.text.embedding import TextEmbedding
from forecasting.text.launch import backtest_launches, forecast_launches

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-dir", default="../shared/data")
args = parser.parse_args()
work = Path(tempfile.mkdtemp(prefix="text_costs_"))
panel, cat = load_dataset_with_catalogue("online-retail", args.data_dir, work, None)
c = PipelineConfig(horizon=HORIZON, n_windows=3, active_days=ACTIVE_DAYS)
plan = BacktestPlan.of(c)
cutoffs = list(window_cutoffs(panel, plan)[plan.calibration_windows :])
with PeakMemory() as m:
    t = time.perf_counter()
    emb = TextEmbedding.fit(cat)
    fit_s = time.perf_counter() - t
print(f"text model fit: {fit_s:.2f}s, +{m.peak_mb:.0f} MiB")
with PeakMemory() as m:
    t = time.perf_counter()
    out = forecast_launches(panel, cat, panel.n_history - 1, HORIZON, emb)
    s = time.perf_counter() - t
print(
    f"forecast_launches (score step, whole file): {s:.2f}s, +{m.peak_mb:.0f} MiB, {out['unique_id'].nunique()} series"
)
with PeakMemory() as m:
    t = time.perf_counter()
    table = backtest_launches(panel, cat, cutoffs, HORIZON, emb)
    s = time.perf_counter() - t
print(
    f"backtest_launches (backtest step, 3 windows, default params): {s:.2f}s, +{m.peak_mb:.0f} MiB"
)
print(table.loc[table["window"] == "all"].to_string())
