"""What products' text and the launch model cost at the scale catalogue's size.

10,000 products at 3 locations (30,000 series) over 400 days: synthetic names and
descriptions from the demo shop's vocabulary, Poisson demand, 10 % of the products
launched during the last year and 30 young series. Times the calls the pipeline adds:
fitting the text model, attaching it to the panel, the launch backtest (3 windows) and
the new products' forecasts. Run from the repository root:
``.venv/bin/python bench/text_costs_scale.py``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from forecasting.evaluation.backtest import BacktestPlan, window_cutoffs
from forecasting.features.panel import Panel
from forecasting.features.text import attach_text
from forecasting.profiling import PeakMemory
from forecasting.sources.synthetic_text import PRODUCT_TYPES, product_texts
from forecasting.text.embedding import TextEmbedding
from forecasting.text.launch import backtest_launches, forecast_launches

N_SKUS, LOCATIONS, DAYS, HORIZON = 10_000, ("online", "store-01", "store-02"), 400, 28

rng = np.random.default_rng(0)
category = rng.choice(sorted(PRODUCT_TYPES), size=N_SKUS)
level = rng.lognormal(0.0, 1.0, size=N_SKUS)
names, descriptions = product_texts(category, level, np.zeros(N_SKUS, bool), seed=1)
dates = pd.date_range("2023-06-01", periods=DAYS + HORIZON, freq="D")
launch = np.where(rng.random(N_SKUS) < 0.1, rng.integers(40, DAYS, N_SKUS), 0)
launch[:10] = DAYS - rng.integers(1, 20, 10)  # 10 products x 3 locations: young series
skus = np.array([f"SKU-{i:05d}" for i in range(N_SKUS)])
catalogue = pd.DataFrame(
    {
        "sku": skus,
        "name": names,
        "description": descriptions,
        "category": category,
        "list_price": np.round(rng.uniform(1, 50, N_SKUS), 2),
        "launched_on": dates[launch],
    }
)
n = N_SKUS * len(LOCATIONS)
y = rng.poisson(np.repeat(level, len(LOCATIONS))[:, None] * np.ones((1, DAYS))).astype(float)
y[np.arange(DAYS)[None, :] < np.repeat(launch, len(LOCATIONS))[:, None]] = np.nan
ids = pd.DataFrame(
    {
        "sku": np.repeat(skus, len(LOCATIONS)),
        "location_id": np.tile(LOCATIONS, N_SKUS),
    }
)
ids.insert(0, "unique_id", ids["sku"] + "@" + ids["location_id"])
full = np.full((n, len(dates)), np.nan)
full[:, :DAYS] = y
panel = Panel(
    ids, dates, full, np.ones_like(full), np.zeros_like(full), pd.DataFrame(index=dates), DAYS
)
print(f"{n} series x {DAYS} days, {int((launch > 0).sum())} launches")
with PeakMemory() as m:
    t = time.perf_counter()
    embedding = TextEmbedding.fit(catalogue)
    print(f"text model fit: {time.perf_counter() - t:.1f}s, +{m.peak_mb:.0f} MiB")
with PeakMemory() as m:
    t = time.perf_counter()
    attach_text(panel, embedding)
    print(f"attach text to the panel: {time.perf_counter() - t:.1f}s, +{m.peak_mb:.0f} MiB")
with PeakMemory() as m:
    t = time.perf_counter()
    out = forecast_launches(panel, catalogue, DAYS - 1, HORIZON, embedding)
    print(
        f"forecast_launches: {time.perf_counter() - t:.1f}s, +{m.peak_mb:.0f} MiB, "
        f"{out['unique_id'].nunique()} series"
    )
plan = BacktestPlan(HORIZON, 3, 1, 90)
cutoffs = list(window_cutoffs(panel, plan)[plan.calibration_windows :])
with PeakMemory() as m:
    t = time.perf_counter()
    table = backtest_launches(panel, catalogue, cutoffs, HORIZON, embedding)
    print(f"backtest_launches (3 windows): {time.perf_counter() - t:.1f}s, +{m.peak_mb:.0f} MiB")
print(table.loc[table["window"] == "all"].to_string())
