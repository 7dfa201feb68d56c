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

from forecasting.names import LOWER_IS_BETTER

__all__ = [
    "LOWER_IS_BETTER",
    "METRIC_COLUMNS",
    "STAT_COLUMNS",
    "metrics_from_stats",
    "pinball",
    "score_forecasts",
    "series_scales",
    "series_window_stats",
]

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
        unknown = np.full(len(hist), np.nan)  # under 2 (or 8) days of history
        return pd.DataFrame(
            {
                "mae1": np.nanmean(np.abs(d1), axis=1) if d1.shape[1] else unknown,
                "mse1": np.nanmean(d1 * d1, axis=1) if d1.shape[1] else unknown,
                "mae7": np.nanmean(np.abs(d7), axis=1) if d7.shape[1] > 0 else unknown,
            }
        )


#: Columns of :func:`series_window_stats` (sums and means per series and window).
STAT_COLUMNS = (
    "n",
    "ae",
    "se",
    "pl10",
    "pl50",
    "pl90",
    "mae1",
    "mse1",
    "mae7",
    "y_sum",
    "f_sum",
    "ae_sum",
    "covered",
)


def series_window_stats(
    frame: pd.DataFrame, keys: tuple[str, ...] = ("unique_id", "window")
) -> pd.DataFrame:
    """Per series and window, what every metric needs: small enough to move between tasks.

    Rows whose actual is unknown (``y`` NaN: days excluded as outliers or stock-outs) are
    left out.

    Args:
        frame: See :func:`score_forecasts`.
        keys: The columns that identify a series and window (monitoring uses ``sku,
            location_id, run_date``).

    Returns:
        One row per ``keys`` with :data:`STAT_COLUMNS`: the row count ``n``, the mean
        absolute and squared error, the mean pinball losses, the series' scales, and the
        sums of actuals, forecasts, absolute errors and covered actuals.
    """
    frame = frame.loc[frame["y"].notna()]
    y = frame["y"].to_numpy(float)
    f = frame["forecast"].to_numpy(float)
    err = np.abs(y - f)
    work = pd.DataFrame(
        {
            **{k: frame[k].to_numpy() for k in keys},
            "ae": err,
            "se": err * err,
            "pl10": pinball(y, frame["p10"].to_numpy(float), 0.1),
            "pl50": pinball(y, frame["p50"].to_numpy(float), 0.5),
            "pl90": pinball(y, frame["p90"].to_numpy(float), 0.9),
            "mae1": frame["mae1"].to_numpy(float),
            "mse1": frame["mse1"].to_numpy(float),
            "mae7": frame["mae7"].to_numpy(float),
            "y": y,
            "f": f,
            "covered": (frame["p10"].to_numpy(float) <= y) & (y <= frame["p90"].to_numpy(float)),
        }
    )
    stats = work.groupby(list(keys), sort=False).agg(
        n=("ae", "size"),
        ae=("ae", "mean"),
        se=("se", "mean"),
        pl10=("pl10", "mean"),
        pl50=("pl50", "mean"),
        pl90=("pl90", "mean"),
        mae1=("mae1", "first"),
        mse1=("mse1", "first"),
        mae7=("mae7", "first"),
        y_sum=("y", "sum"),
        f_sum=("f", "sum"),
        ae_sum=("ae", "sum"),
        covered=("covered", "sum"),
    )
    return stats.reset_index()


def metrics_from_stats(stats: pd.DataFrame) -> dict[str, float]:
    """The metrics of :func:`score_forecasts` from :func:`series_window_stats` rows (which
    may come from several shards: the result is the same as scoring all rows at once)."""
    if stats.empty or stats["n"].sum() == 0:
        raise ValueError("no forecasts with known actuals to score")

    def scaled(num: pd.Series, den: pd.Series) -> float:
        ok = den > 0
        return float((num[ok] / den[ok]).mean()) if ok.any() else float("nan")

    total = float(stats["y_sum"].sum())
    bias = float((stats["f_sum"].sum() - total) / total) if total > 0 else float("nan")
    out = {
        "rmsse": scaled(np.sqrt(stats["se"]), np.sqrt(stats["mse1"])),
        "mase": scaled(stats["ae"], stats["mae7"]),
        "wape": float(stats["ae_sum"].sum() / total) if total > 0 else float("nan"),
        "bias": bias,
        "spl_10": scaled(stats["pl10"], stats["mae1"]),
        "spl_50": scaled(stats["pl50"], stats["mae1"]),
        "spl_90": scaled(stats["pl90"], stats["mae1"]),
        "coverage": float(stats["covered"].sum() / stats["n"].sum()),
    }
    out["spl"] = float(np.mean([out["spl_10"], out["spl_50"], out["spl_90"]]))
    out["abs_bias"] = abs(bias)
    out["n_series"] = float(len(stats))
    return out


def score_forecasts(frame: pd.DataFrame) -> dict[str, float]:
    """Metrics of one model over a set of forecasts with known actuals.

    Args:
        frame: One row per series, window and target day with ``unique_id``, ``window``,
            ``y`` (actual; NaN rows are left out), ``forecast``, ``p10``, ``p50``, ``p90``
            and the series' ``mae1``, ``mse1``, ``mae7`` for that window (see
            :func:`series_scales`).

    Returns:
        The metrics in :data:`METRIC_COLUMNS` plus ``abs_bias`` and ``n_series``
        (series-windows scored).
    """
    if frame.empty:
        raise ValueError("no forecasts to score")
    return metrics_from_stats(series_window_stats(frame))
