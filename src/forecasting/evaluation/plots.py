"""Backtest plots for the MLflow UI: forecast vs actual for a few series."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["plot_backtest_frames"]


def plot_backtest_frames(forecasts: pd.DataFrame, history: pd.DataFrame, n_series: int = 4) -> Any:
    """Actuals, P50, the point forecast and the P10-P90 band of a backtest window.

    Series are the highest-volume ones (most readable); the figure uses the Agg backend.

    Args:
        forecasts: Calibrated backtest forecasts of one window: ``unique_id, ds, y,
            forecast, p10, p50, p90``.
        history: Actuals before the window: ``unique_id, ds, y``.
        n_series: Series to draw.

    Returns:
        A matplotlib figure.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = forecasts.groupby("unique_id")["y"].sum().sort_values(ascending=False).index[:n_series]
    fig, axes = plt.subplots(len(top) or 1, 1, figsize=(10, 2.6 * max(len(top), 1)), squeeze=False)
    for ax, uid in zip(axes[:, 0], top, strict=False):
        part = forecasts.loc[forecasts["unique_id"] == uid].sort_values("ds")
        past = history.loc[history["unique_id"] == uid].sort_values("ds")
        actual = pd.concat([past[["ds", "y"]], part[["ds", "y"]]])
        ax.plot(actual["ds"], actual["y"], color="black", lw=1, label="actual")
        ax.fill_between(part["ds"], part["p10"], part["p90"], alpha=0.3, label="P10-P90")
        ax.plot(part["ds"], part["p50"], lw=1.5, label="P50")
        ax.plot(part["ds"], part["forecast"], lw=1, ls="--", label="forecast")
        # Ids are the shop's data: shown literally, never parsed as $math$.
        ax.set_title(str(uid), fontsize=9, parse_math=False)
        ax.set_ylim(bottom=0)
    if len(top):
        axes[0, 0].legend(loc="upper left", fontsize=8, ncol=4)
    fig.suptitle("Backtest: last window, forecast vs actual")
    fig.tight_layout()
    return fig
