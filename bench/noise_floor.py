"""How low can RMSSE go on Store Item Demand? An oracle that cheats, scored like the models.

The Kaggle Store Item Demand file looks generated: each day's sales behave like a Poisson
draw (variance / mean close to 1 within a store x item x weekday x month cell) around a
mean that is a product of a per-series yearly level, a weekday profile and a month
profile. This script fits that multiplicative mean on **all** the data, the benchmark's
test windows included (an oracle no forecaster can be), and scores it with the same
metric code and windows as ``forecasting benchmark store-item-demand``. Its RMSSE is an
optimistic floor for any honest forecast: the rest is Poisson noise.

Run from the repository root after ``make install``::

    .venv/bin/python bench/noise_floor.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import poisson

from forecasting.evaluation.metrics import score_forecasts, series_scales

HORIZON = 28
N_WINDOWS = 3


def main() -> None:
    """Print the oracle's metrics and the dispersion of the data."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    path = next((args.data_dir / "store_item_demand").glob("sales_*.csv.gz"))
    df = pd.read_csv(path, parse_dates=["date"])
    df["uid"] = df["store"].astype(str) + "_" + df["item"].astype(str)
    df["year"] = df["date"].dt.year
    df["dow"] = df["date"].dt.dayofweek
    df["month"] = df["date"].dt.month

    # Multiplicative mean: per-series yearly level x weekday profile x month profile,
    # a few rounds of backfitting (fitted on everything, test windows included).
    df["level"] = df.groupby(["uid", "year"])["sales"].transform("mean")
    df["f_dow"] = 1.0
    df["f_month"] = 1.0
    for _ in range(5):
        ratio = df["sales"] / (df["level"] * df["f_month"])
        df["f_dow"] = ratio.groupby(df["dow"]).transform("mean")
        ratio = df["sales"] / (df["level"] * df["f_dow"])
        df["f_month"] = ratio.groupby(df["month"]).transform("mean")
        ratio = df["sales"] / (df["f_dow"] * df["f_month"])
        df["level"] = ratio.groupby([df["uid"], df["year"]]).transform("mean")
    df["mu"] = df["level"] * df["f_dow"] * df["f_month"]

    cell = df.groupby(["uid", "dow", "month", "year"])["sales"].agg(["mean", "var"])
    dispersion = float(cell["var"].sum() / cell["mean"].sum())

    panel = df.pivot(index="uid", columns="date", values="sales")
    mu = df.pivot(index="uid", columns="date", values="mu").loc[panel.index, panel.columns]
    y = panel.to_numpy(dtype=float)
    n_days = y.shape[1]
    frames = []
    for w in range(N_WINDOWS):
        cutoff = n_days - 1 - (N_WINDOWS - w) * HORIZON
        scales = series_scales(y, cutoff)
        sl = slice(cutoff + 1, cutoff + 1 + HORIZON)
        point = mu.to_numpy()[:, sl]
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": np.repeat(panel.index.to_numpy(), HORIZON),
                    "window": w,
                    "y": y[:, sl].ravel(),
                    "forecast": point.ravel(),
                    "p10": poisson.ppf(0.1, point).ravel(),
                    "p50": poisson.ppf(0.5, point).ravel(),
                    "p90": poisson.ppf(0.9, point).ravel(),
                    "mae1": np.repeat(scales["mae1"].to_numpy(), HORIZON),
                    "mse1": np.repeat(scales["mse1"].to_numpy(), HORIZON),
                    "mae7": np.repeat(scales["mae7"].to_numpy(), HORIZON),
                }
            )
        )
        print(f"window {w}: cutoff {panel.columns[cutoff].date()}")
    scores = score_forecasts(pd.concat(frames, ignore_index=True))
    print(f"variance / mean within store x item x weekday x month x year cells: {dispersion:.3f}")
    print("in-sample oracle (Poisson quantiles around the fitted mean):")
    for key in ("rmsse", "mase", "wape", "bias", "spl", "coverage"):
        print(f"  {key:<9}{scores[key]:.4f}")


if __name__ == "__main__":
    main()
