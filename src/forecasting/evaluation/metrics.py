"""Forecast accuracy metrics over a backtest frame.

Conventions (stated because every paper picks differently):

* Point metrics (WAPE, MASE, RMSSE, bias) use the point forecast column ``forecast``.
* MASE scales each series' mean absolute error by the mean absolute *seasonal* (7-day)
  difference of its training history; RMSSE scales the root mean squared error by the
  root mean squared *one-step* difference (the M5 convention). Both are averaged over
  series with equal weight; series whose scale is zero are left out and counted.
* Scaled pinball loss at level q: each series' mean pinball loss divided by its mean
  absolute one-step difference (M5's SPL), averaged over series; ``spl`` is the mean of
  the three levels.
* WAPE = sum |error| / sum actual; bias = sum (forecast - actual) / sum actual
  (positive means over-forecasting).
* Coverage: share of actuals with P10 <= actual <= P90 (inclusive; demand is discrete).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["LOWER_IS_BETTER", "METRIC_COLUMNS", "pinball", "score_forecasts", "series_scales"]

#: Metrics where lower is better (ranking and promotion use these).
LOWER_IS_BETTER = frozenset(
    {"rmsse", "mase", "wape", "spl", "spl_10", "spl_50", "spl_90", "abs_bias"}
)
#: Metric columns of :func:`score_forecasts`, in report order.
METRIC_COLUMNS = ("rmsse", "mase", "wape", "bias", "spl_10", "spl_50", "spl_90", "spl", "coverage")


def pinball(y: np.ndarray, q_pred: np.ndarray, level: float) -> np.ndarray:
    """Elementwise pinball (quantile) loss of ``q_pred`` at ``level``."""
    diff = y - q_pred
    return np.maximum(level * diff, (level - 1.0) * diff)


def series_scales(y: np.ndarray, cutoff: int) -> pd.DataFrame:
    """Per-series denominators from history up to ``cutoff`` (inclusive).

    Args:
        y: Panel demand ``(n_series, n_days)`` with NaN before each series starts.
        cutoff: Last training day index.

    Returns:
        Frame with ``mae1`` (mean |y_t - y_{t-1}|), ``mse1`` (mean squared one-step
        difference) and ``mae7`` (mean |y_t - y_{t-7}|), one row per series.
    """
    hist = y[:, : cutoff + 1]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # series with one day of history
        d1 = np.diff(hist, axis=1)
        d7 = hist[:, 7:] - hist[:, :-7]
        return pd.DataFrame(
            {
                "mae1": np.nanmean(np.abs(d1), axis=1) if d1.shape[1] else np.nan,
                "mse1": np.nanmean(d1 * d1, axis=1) if d1.shape[1] else np.nan,
                "mae7": np.nanmean(np.abs(d7), axis=1) if d7.shape[1] else np.nan,
            }
        )


def score_forecasts(frame: pd.DataFrame) -> dict[str, float]:
    """Metrics of one model over a set of forecasts with known actuals.

    Args:
        frame: One row per series, window and target day with ``unique_id``, ``window``,
            ``y`` (actual), ``forecast``, ``p10``, ``p50``, ``p90`` and the series'
            ``mae1``, ``mse1``, ``mae7`` for that window (see :func:`series_scales`).

    Returns:
        The metrics in :data:`METRIC_COLUMNS` plus ``abs_bias`` and ``n_series``
        (series-windows scored).
    """
    if frame.empty:
        raise ValueError("no forecasts to score")
    f = frame.assign(
        ae=(frame["y"] - frame["forecast"]).abs(),
        se=(frame["y"] - frame["forecast"]) ** 2,
        pl10=pinball(frame["y"].to_numpy(), frame["p10"].to_numpy(), 0.1),
        pl50=pinball(frame["y"].to_numpy(), frame["p50"].to_numpy(), 0.5),
        pl90=pinball(frame["y"].to_numpy(), frame["p90"].to_numpy(), 0.9),
    )
    per = f.groupby(["unique_id", "window"], sort=False).agg(
        ae=("ae", "mean"),
        se=("se", "mean"),
        pl10=("pl10", "mean"),
        pl50=("pl50", "mean"),
        pl90=("pl90", "mean"),
        mae1=("mae1", "first"),
        mse1=("mse1", "first"),
        mae7=("mae7", "first"),
    )

    def scaled(num: pd.Series, den: pd.Series) -> float:
        ok = den > 0
        return float((num[ok] / den[ok]).mean()) if ok.any() else float("nan")

    total = float(f["y"].sum())
    bias = float((f["forecast"] - f["y"]).sum() / total) if total > 0 else float("nan")
    out = {
        "rmsse": scaled(np.sqrt(per["se"]), np.sqrt(per["mse1"])),
        "mase": scaled(per["ae"], per["mae7"]),
        "wape": float(f["ae"].sum() / total) if total > 0 else float("nan"),
        "bias": bias,
        "spl_10": scaled(per["pl10"], per["mae1"]),
        "spl_50": scaled(per["pl50"], per["mae1"]),
        "spl_90": scaled(per["pl90"], per["mae1"]),
        "coverage": float(((f["p10"] <= f["y"]) & (f["y"] <= f["p90"])).mean()),
    }
    out["spl"] = float(np.mean([out["spl_10"], out["spl_50"], out["spl_90"]]))
    out["abs_bias"] = abs(bias)
    out["n_series"] = float(len(per))
    return out
