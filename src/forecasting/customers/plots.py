"""Figures the propensity run logs to MLflow: reliability diagram and lift chart."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["lift_chart", "reliability_plot", "reliability_table"]


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability vs observed rate per probability decile.

    Returns:
        ``bin, customers, predicted, observed``.
    """
    frame = pd.DataFrame({"y": y, "p": p})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), bins, labels=False)
    out = frame.groupby("bin").agg(
        customers=("y", "size"), predicted=("p", "mean"), observed=("y", "mean")
    )
    return out.reset_index()


def _figure() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6, 5))


def reliability_plot(scored: dict[str, pd.DataFrame]) -> Any:
    """Reliability diagram of every candidate's calibrated probabilities on the test cutoff."""
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for name, frame in scored.items():
        table = reliability_table(frame["y"].to_numpy(), frame["p"].to_numpy())
        ax.plot(table["predicted"], table["observed"], marker="o", label=name)
    ax.set_xlabel("predicted probability of buying in 28 days (decile mean)")
    ax.set_ylabel("observed share who bought")
    ax.set_title("Reliability on the test cutoff")
    ax.legend()
    fig.tight_layout()
    return fig


def lift_chart(scored: dict[str, pd.DataFrame]) -> Any:
    """Cumulative lift by share of customers targeted, per candidate."""
    fig, ax = _figure()
    for name, frame in scored.items():
        y = frame.sort_values("p", ascending=False)["y"].to_numpy()
        share = np.arange(1, len(y) + 1) / len(y)
        lift = np.cumsum(y) / np.arange(1, len(y) + 1) / max(y.mean(), 1e-12)
        ax.plot(share, lift, label=name)
    ax.axhline(1.0, color="grey", linestyle=":")
    ax.set_xlabel("share of customers targeted (highest probability first)")
    ax.set_ylabel("cumulative lift over the base rate")
    ax.set_title("Lift on the test cutoff")
    ax.legend()
    fig.tight_layout()
    return fig
