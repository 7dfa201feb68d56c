"""Backtest plots for the MLflow UI: forecast vs actual for a few series."""

from __future__ import annotations

from typing import Any

import pandas as pd

from forecasting.features.panel import Panel

__all__ = ["plot_backtest"]


def plot_backtest(
    panel: Panel, scored: pd.DataFrame, n_series: int = 4, history_days: int = 56
) -> Any:
    """Actuals, P50 and the P10-P90 band of the last backtest window for a few series.

    Series are the highest-volume ones (most readable); the figure uses the Agg backend.

    Args:
        panel: The full panel (for the actuals before the window).
        scored: Calibrated backtest forecasts with ``unique_id, ds, y, p10, p50, p90, window``.
        n_series: Series to draw.
        history_days: Days of history drawn before the window.

    Returns:
        A matplotlib figure.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    last = scored.loc[scored["window"] == scored["window"].max()]
    top = last.groupby("unique_id")["y"].sum().sort_values(ascending=False).index[:n_series]
    fig, axes = plt.subplots(len(top), 1, figsize=(10, 2.6 * max(len(top), 1)), squeeze=False)
    pos = pd.Index(panel.ids["unique_id"])
    for ax, uid in zip(axes[:, 0], top, strict=False):
        part = last.loc[last["unique_id"] == uid].sort_values("ds")
        start = pd.Timestamp(part["ds"].min()) - pd.Timedelta(days=history_days)
        days = (panel.dates >= start) & (panel.dates <= part["ds"].max())
        ax.plot(
            panel.dates[days], panel.y[pos.get_loc(uid), days], color="black", lw=1, label="actual"
        )
        ax.fill_between(part["ds"], part["p10"], part["p90"], alpha=0.3, label="P10-P90")
        ax.plot(part["ds"], part["p50"], lw=1.5, label="P50")
        ax.plot(part["ds"], part["forecast"], lw=1, ls="--", label="forecast")
        ax.set_title(str(uid), fontsize=9)
        ax.set_ylim(bottom=0)
    if len(top):
        axes[0, 0].legend(loc="upper left", fontsize=8, ncol=4)
    fig.suptitle("Backtest: last window, forecast vs actual")
    fig.tight_layout()
    return fig
