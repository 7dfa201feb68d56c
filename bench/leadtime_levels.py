"""Does modelling the window-level error improve the lead-time quantiles? A held-out test.

All series of a backtest window share that window's level error (the ratio of actual to
forecast totals, ``r_w``), so the pooled errors of one window are not independent. The
shipped model (:class:`forecasting.evaluation.leadtime.LeadTimeCalibrator`, "pooled")
pools the standardised errors as they are. The variants here split them into the window
level ``r_w`` and the series error ``e = (A - r_w m) / sqrt(m)``, and draw the next window's
level from ``Normal(c, s)``:

* ``level_at_1``: ``c = 1``, ``s`` = root mean square of ``r_w - 1`` (past level errors are
  zero-mean noise);
* ``level_at_mean``: ``c`` = mean of ``r_w``, ``s`` = their spread times ``sqrt(1 + 1/n)``
  (``|c - 1|`` with one window).

Protocol: run the benchmark with six scored windows (one calibration window before them),
choose on scored windows 1-3, report on windows 4-6 (the benchmark's usual three). Each
window is calibrated on the windows before it only. Score: the distance from the level to
the bracket [share of totals below, share at or below the quantile] (0 inside it),
averaged over lead times and levels, and the share of (lead time, level) cells within
3 points::

    forecasting benchmark store-item-demand --data-dir ../shared/data --peers '' \\
        --windows 6 --output-dir /tmp/sid
    forecasting benchmark online-retail --data-dir ../shared/data --peers '' \\
        --windows 6 --output-dir /tmp/ret
    .venv/bin/python bench/leadtime_levels.py /tmp/sid/leadtime_totals.parquet \\
        /tmp/ret/leadtime_totals.parquet
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy.stats import norm

from forecasting.evaluation.leadtime import (
    LEADTIME_LEVELS,
    MAX_BINS,
    MIN_PER_BIN,
    coverage_shares,
    leadtime_coverage,
    level_column,
)

GRID = (np.arange(100) + 0.5) / 100
LEVEL_DRAWS = norm.ppf((np.arange(16) + 0.5) / 16)
VARIANTS = ("pooled", "level_at_1", "level_at_mean")
CANDIDATES = ("ensemble", "hgb", "mlp", "linear")


def _scale(m: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(m, 0.25))


def _level_quantiles(train: pd.DataFrame, test: pd.DataFrame, centre: str) -> pd.DataFrame:
    parts = []
    for lead, fit in train.groupby("days"):
        sums = fit.groupby("window")[["actual", "m"]].sum()
        ratio = sums["actual"] / sums["m"]
        if centre == "level_at_1":
            c, s = 1.0, float(np.sqrt(np.mean((ratio - 1.0) ** 2)))
        else:
            c = float(ratio.mean())
            n = len(ratio)
            s = float(ratio.std(ddof=1)) * np.sqrt(1 + 1 / n) if n > 1 else abs(c - 1.0)
        m = fit["m"].to_numpy(float)
        e = (fit["actual"].to_numpy(float) - fit["window"].map(ratio).to_numpy(float) * m) / _scale(
            m
        )
        bins = int(np.clip(len(m) // MIN_PER_BIN, 1, MAX_BINS))
        cuts = np.unique(np.quantile(m, np.arange(1, bins) / bins)) if bins > 1 else np.empty(0)
        code = np.searchsorted(cuts, m, side="right")
        eq = np.array(
            [
                np.quantile(e[code == b] if (code == b).any() else e, GRID)
                for b in range(len(cuts) + 1)
            ]
        )
        part = test.loc[test["days"] == lead]
        mt = part["m"].to_numpy(float)
        z = eq[np.searchsorted(cuts, mt, side="right")]
        points = mt[:, None, None] * (c + s * LEVEL_DRAWS)[None, :, None] + (
            _scale(mt)[:, None, None] * z[:, None, :]
        )
        values = np.quantile(
            np.maximum(points.reshape(len(mt), -1), 0.0), LEADTIME_LEVELS, axis=1
        ).T
        values = np.maximum.accumulate(values, axis=1)
        parts.append(
            part.assign(**{level_column(q): values[:, i] for i, q in enumerate(LEADTIME_LEVELS)})
        )
    return pd.concat(parts, ignore_index=True)


def _coverage(totals: pd.DataFrame, variant: str, windows: list[int]) -> pd.DataFrame:
    if variant == "pooled":  # the shipped model, through the shipped coverage function
        kept = totals.loc[totals["window"] <= max(windows)]
        return leadtime_coverage(kept, min(windows))
    scored = []
    for k in windows:
        train = totals.loc[(totals["window"] < k) & totals["actual"].notna()]
        test = totals.loc[(totals["window"] == k) & totals["actual"].notna()]
        scored.append(_level_quantiles(train, test, variant))
    return coverage_shares(pd.concat(scored, ignore_index=True))


def _misses(coverage: pd.DataFrame) -> np.ndarray:
    out = []
    for q in LEADTIME_LEVELS:
        low = coverage[f"{level_column(q)}_below"].to_numpy(float)
        high = coverage[level_column(q)].to_numpy(float)
        out.append(np.where(q < low, low - q, np.where(q > high, q - high, 0.0)))
    return np.concatenate(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("totals", nargs="+", help="leadtime_totals.parquet of 6-window runs")
    args = parser.parse_args()
    rows = []
    for path in args.totals:
        everything = pd.read_parquet(path)
        for candidate in CANDIDATES:
            totals = everything.loc[everything["candidate"] == candidate]
            windows = sorted(int(w) for w in totals["window"].unique())
            if len(windows) < 7:
                raise SystemExit(f"{path}: needs 7 windows (--windows 6), found {len(windows)}")
            for variant in VARIANTS:
                for split, chosen in (("select", windows[1:4]), ("report", windows[4:7])):
                    miss = _misses(_coverage(totals, variant, chosen))
                    rows.append(
                        {
                            "file": path,
                            "candidate": candidate,
                            "variant": variant,
                            "split": split,
                            "mean_miss": miss.mean(),
                            "within_3pts": (miss <= 0.03).mean(),
                        }
                    )
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 160)
    print(table.round(4).to_string(index=False))
    print("\nAveraged over files and candidates:")
    print(table.groupby(["split", "variant"])[["mean_miss", "within_3pts"]].mean().round(4))


if __name__ == "__main__":
    main()
