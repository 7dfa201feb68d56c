"""The report's figures: matplotlib PNGs embedded as data URIs (the page needs no network)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["Image", "forecast_plot", "trend_plot"]


@dataclass(frozen=True)
class Image:
    """An embedded image of a page.

    Attributes:
        alt: Its text alternative (escaped by the template).
        src: A ``data:image/png;base64,...`` URI.
    """

    alt: str
    src: str


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def forecast_plot(
    uid: str, history: pd.DataFrame, forecast: pd.DataFrame, before: pd.DataFrame | None
) -> Image:
    """One series' actuals, today's P50 with its P10-P90 band and the earlier run's P50.

    Args:
        uid: The series (``<sku>@<location_id>``), drawn literally as the title.
        history: Its actuals (columns ``ds``, ``y``).
        forecast: Today's daily forecasts (columns ``target_date``, ``p10``, ``p50``,
            ``p90``).
        before: The earlier run's daily forecasts (same columns), if there is one.
    """
    fig, ax = _pyplot().subplots(figsize=(8, 2.6))
    ax.plot(history["ds"], history["y"], color="#1d2430", lw=1.2, label="actual")
    ax.fill_between(
        forecast["target_date"],
        forecast["p10"],
        forecast["p90"],
        color="#4c78a8",
        alpha=0.25,
        label="P10-P90",
    )
    ax.plot(forecast["target_date"], forecast["p50"], color="#4c78a8", lw=1.5, label="P50 today")
    if before is not None:
        ax.plot(
            before["target_date"],
            before["p50"],
            color="#e45756",
            lw=1.2,
            ls="--",
            label="P50 before",
        )
    ax.set_title(uid, fontsize=10, parse_math=False)  # the shop's ids, never $math$
    ax.legend(fontsize=7, loc="upper left")
    ax.tick_params(labelsize=7)
    return Image(f"forecast vs actual {uid}", _png(fig))


def trend_plot(trend: pd.DataFrame) -> Image:
    """Live RMSSE, WAPE and P10-P90 coverage over the monitoring days (the 0.8 coverage a
    calibrated band should reach as a dashed line).

    Args:
        trend: Columns ``monitor_date``, ``rmsse``, ``wape`` and ``coverage``.
    """
    import matplotlib.dates as mdates

    fig, axes = _pyplot().subplots(1, 3, figsize=(10, 2.4))
    days = pd.to_datetime(trend["monitor_date"])
    for ax, metric in zip(axes, ("rmsse", "wape", "coverage"), strict=True):
        ax.plot(days, trend[metric].astype(float), marker="o", ms=3)
        ax.set_title(f"live {metric}", fontsize=9)
        ax.tick_params(labelsize=7, axis="both")
        ax.tick_params(axis="x", rotation=30)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    if len(trend):
        axes[2].axhline(0.8, color="#999", lw=0.8, ls="--")
    return Image("live accuracy trend", _png(fig))
