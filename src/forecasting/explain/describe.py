"""One line per series for the report: what moved its forecast, in a planner's words."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from forecasting.explain.groups import GROUP_LABELS, REFERENCE
from forecasting.schema import SEPARATOR

__all__ = ["describe_drivers"]

#: Contributions smaller than this (units) are not named.
_NEGLIGIBLE = 0.05


def _units(value: float) -> str:
    """``+18``, ``-3``, ``+0.4``: whole units from 1 up, one decimal below."""
    return f"{value:+.0f}" if abs(value) >= 1 else f"{value:+.1f}"


def describe_drivers(
    rows: pd.DataFrame, names: Mapping[str, str] | None = None, top: int = 3
) -> str:
    """A sentence on one series: its change (change rows) or its forecast against its
    recent average (driver rows), and the ``top`` groups that moved it most.

    ``SKU-00006 (Blue mug, online) +18 units: +12 price and promotions, +6 sales history``

    Args:
        rows: The series' rows of :func:`~forecasting.explain.changes.explain_change`
            (with ``part``: the number is the change since the previous run) or of
            :func:`~forecasting.explain.drivers.explain_forecasts` (the number is the
            forecast over the horizon minus the ``reference``, i.e. against the recent
            average). ``unique_id`` or ``sku`` and ``location_id`` name the series.
        names: Product name by SKU (a SKU without one is shown alone).
        top: How many groups to name (largest first, by size).

    Returns:
        The sentence.

    Raises:
        ValueError: If ``rows`` hold no series or more than one.
    """
    if "unique_id" in rows.columns:
        uid = rows["unique_id"].astype(str).unique()
        if len(uid) != 1:
            raise ValueError(f"rows must hold one series, got {len(uid)}")
        sku, _, location = uid[0].partition(SEPARATOR)
    else:
        keys = rows[["sku", "location_id"]].astype(str).drop_duplicates()
        if len(keys) != 1:
            raise ValueError(f"rows must hold one series, got {len(keys)}")
        sku, location = keys.iloc[0]["sku"], keys.iloc[0]["location_id"]
    moved = rows.loc[rows["input_group"] != REFERENCE] if "part" not in rows.columns else rows
    per_group = moved.groupby("input_group")["contribution"].sum()
    total = float(per_group.sum())
    ranked = per_group.reindex(per_group.abs().sort_values(ascending=False).index)
    named = [
        f"{_units(float(v))} {GROUP_LABELS.get(str(g), str(g).replace('_', ' '))}"
        for g, v in ranked.head(top).items()
        if abs(float(v)) >= _NEGLIGIBLE
    ]
    details = [d for d in ((names or {}).get(sku), location or None) if d]
    who = f"{sku} ({', '.join(details)})" if details else sku
    return (
        f"{who} {_units(total)} units: {', '.join(named)}"
        if named
        else f"{who} {_units(total)} units"
    )
