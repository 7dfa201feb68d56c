"""The series chart's geometry: history, the forecast's P10-P90 fan with its P50 line, and
actuals as they arrive, as SVG coordinates.

Only numbers and dates come out of here; the template (``templates/chart.svg.j2``) draws
them, so nothing from the shop's data reaches the SVG unescaped, and no script or external
library is involved (the page works offline).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

__all__ = ["Chart", "series_chart"]

WIDTH = 900
HEIGHT = 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 12, 28


@dataclass(frozen=True)
class Chart:
    """Coordinates of one series chart (pixels; y grows downwards).

    Attributes:
        width: The SVG's width.
        height: Its height.
        fan: ``points`` of the P10-P90 polygon ("" without forecasts).
        p50: ``points`` of the P50 polyline.
        history: ``points`` of each unbroken stretch of the history (a missing day breaks it).
        actuals: ``(x, y, label)`` of each actual after the run date.
        run_x: x of the run date's end (the line between history and forecast).
        x_ticks: ``(x, label)`` of the date ticks.
        y_ticks: ``(y, label)`` of the unit ticks.
        plot: ``(left, top, right, bottom)`` of the plotting area.
    """

    width: int
    height: int
    fan: str = ""
    p50: str = ""
    history: list[str] = field(default_factory=list)
    actuals: list[tuple[float, float, str]] = field(default_factory=list)
    run_x: float = 0.0
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    plot: tuple[int, int, int, int] = (_LEFT, _TOP, WIDTH - _RIGHT, HEIGHT - _BOTTOM)


def _nice_top(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _points(pairs: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pairs)


def series_chart(
    run_day: date,
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    actuals: pd.DataFrame,
    history_days: int = 90,
) -> Chart:
    """Lay out one series' chart.

    Args:
        run_day: The run date: history up to it, forecasts after it.
        history: ``ds`` (date), ``units`` (float, NaN on excluded days).
        forecast: ``target_date`` (date), ``p10``, ``p50``, ``p90``.
        actuals: ``target_date`` (date), ``actual``: monitoring's actuals of the run's
            forecasts; ``history`` rows after ``run_day`` count as actuals too.
        history_days: Days of history shown before and including ``run_day``.

    Returns:
        The :class:`Chart`.
    """
    first = run_day - timedelta(days=history_days - 1)
    last_target = max(forecast["target_date"], default=run_day + timedelta(days=28))
    last = max(last_target, run_day + timedelta(days=1))
    past = {
        d: u for d, u in zip(history["ds"], history["units"], strict=True) if first <= d <= run_day
    }
    arrived = {
        d: float(u)
        for d, u in zip(history["ds"], history["units"], strict=True)
        if run_day < d <= last and pd.notna(u)
    }
    arrived.update(
        (d, float(a))
        for d, a in zip(actuals["target_date"], actuals["actual"], strict=True)
        if run_day < d <= last and pd.notna(a)
    )
    values = [float(u) for u in past.values() if pd.notna(u)] + list(arrived.values())
    values += [float(v) for v in forecast["p90"]] if not forecast.empty else []
    top = _nice_top(max(values, default=1.0))
    left, upper, right, lower = _LEFT, _TOP, WIDTH - _RIGHT, HEIGHT - _BOTTOM
    span = max((last - first).days, 1)

    def x(day: date) -> float:
        return left + (right - left) * (day - first).days / span

    def y(value: float) -> float:
        return lower - (lower - upper) * float(value) / top

    stretches: list[list[tuple[float, float]]] = [[]]
    for offset in range(history_days):
        day = first + timedelta(days=offset)
        units = past.get(day)
        if units is None or pd.isna(units):
            if stretches[-1]:
                stretches.append([])
            continue
        stretches[-1].append((x(day), y(units)))
    edges: dict[str, list[tuple[float, float]]] = {"p10": [], "p50": [], "p90": []}
    if not forecast.empty:
        rows = forecast.sort_values("target_date")
        for column, edge in edges.items():
            edge.extend(
                (x(d), y(v)) for d, v in zip(rows["target_date"], rows[column], strict=True)
            )
    x_ticks = []
    tick = first
    while tick <= last:
        x_ticks.append((x(tick), tick.strftime("%d %b")))
        tick += timedelta(days=14)
    y_ticks = [(y(top * k / 4), f"{top * k / 4:g}") for k in range(5)]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        fan=_points(edges["p90"] + edges["p10"][::-1]),
        p50=_points(edges["p50"]),
        history=[_points(s) for s in stretches if s],
        actuals=[(x(d), y(v), f"{d.isoformat()}: {v:g}") for d, v in sorted(arrived.items())],
        run_x=x(run_day),
        x_ticks=x_ticks,
        y_ticks=y_ticks,
    )
