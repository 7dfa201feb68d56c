"""What the planner report reads from the warehouse (SQL in ``include/sql/report/``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from forecasting.db import read_frame

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = [
    "accuracy_summary",
    "forecast_run",
    "forecast_totals",
    "previous_run_day",
    "series_forecast",
    "unmet_searches",
    "widest_uncertainty",
]

#: Shop days of searches the unmet-demand section and line add up (the run's day and the
#: days before it): a week evens out the weekdays and still names this week's gaps.
UNMET_DAYS = 7


def forecast_totals(engine: Engine, run_day: date) -> pd.DataFrame:
    """A run date's forecasts summed per series (the warehouse adds them up).

    Returns:
        Columns ``sku``, ``location_id``, ``forecast``, ``p10``, ``p50``, ``p90`` (sums
        over the horizon) and ``days``.
    """
    frame = read_frame(engine, "report/select_forecast_totals", {"run_date": run_day.isoformat()})
    return frame.astype({c: float for c in ("forecast", "p10", "p50", "p90")})


def series_forecast(engine: Engine, run_day: date, sku: str, location_id: str) -> pd.DataFrame:
    """One series' daily forecasts of a run date (for its plot).

    Returns:
        Columns ``target_date`` (datetime), ``forecast``, ``p10``, ``p50`` and ``p90``.
    """
    params = {"run_date": run_day.isoformat(), "sku": sku, "location_id": location_id}
    frame = read_frame(engine, "report/select_series_forecast", params)
    frame["target_date"] = pd.to_datetime(frame["target_date"])
    return frame


def previous_run_day(engine: Engine, run_day: date) -> date | None:
    """The published run a week earlier, else the latest earlier one (``None`` if none)."""
    runs = read_frame(engine, "report/select_run_dates", {"run_date": run_day.isoformat()})
    days = sorted(pd.to_datetime(runs["run_date"]).dt.date) if len(runs) else []
    week = run_day - timedelta(days=7)
    if week in days:
        return week
    return days[-1] if days else None


def forecast_run(engine: Engine, run_day: date) -> dict[str, Any]:
    """The run date's row of ``forecast_runs`` (model name and version...; ``{}`` if none)."""
    run = read_frame(engine, "publish/select_forecast_run", {"run_date": run_day.isoformat()})
    return run.iloc[0].to_dict() if len(run) else {}


def accuracy_summary(engine: Engine, run_day: date, days: int = 90) -> pd.DataFrame:
    """Live accuracy summaries of the ``days`` monitoring days up to ``run_day``, every
    dimension (``all``, ``lag``, ``category``, ``location``)."""
    return read_frame(
        engine,
        "monitoring/select_accuracy_summary",
        {
            "first_day": (run_day - timedelta(days=days)).isoformat(),
            "last_day": run_day.isoformat(),
        },
    )


def widest_uncertainty(
    engine: Engine, run_day: date, daily: pd.DataFrame, rows: int
) -> tuple[pd.DataFrame, str]:
    """The series with the widest uncertainty of their total demand over the longest lead
    time (``demand_forecast_leadtime``; sums of daily quantiles only for a version
    without lead-time quantiles, and said so).

    Args:
        engine: The warehouse.
        run_day: The run date.
        daily: :func:`forecast_totals` of the run date (the fallback's sums).
        rows: Rows to keep, widest first.

    Returns:
        The table to show and its title.
    """
    from forecasting.publishing import read_leadtime

    lead = read_leadtime(engine, run_day)
    if len(lead):
        days = int(lead["days"].max())
        part = lead.loc[(lead["days"] == days) & (lead["p50"] >= 1)].copy()
        part["relative"] = (part["p90"] - part["p50"]) / part["p50"]
        table = part.sort_values("relative", ascending=False).head(rows)
        table = table.loc[:, ["sku", "location_id", "p50", "p90", "p99", "relative"]].rename(
            columns={
                "p50": f"P50 ({days}-day total)",
                "p90": f"P90 ({days}-day total)",
                "p99": f"P99 ({days}-day total)",
                "relative": "(P90-P50)/P50",
            }
        )
        return table, f"Widest uncertainty of the {days}-day total (median of at least 1 unit)"
    wide = daily.assign(
        relative=(daily["p90"] - daily["p10"]) / daily["p50"].where(daily["p50"] > 0)
    )
    wide = wide.loc[wide["p50"] >= 1].sort_values("relative", ascending=False).head(rows)
    table = wide.loc[:, ["sku", "location_id", "p10", "p50", "p90", "relative"]].rename(
        columns={"relative": "(P90-P10)/P50 of daily sums"}
    )
    return table, "Widest uncertainty (sums of daily quantiles: no lead-time quantiles)"


def unmet_searches(
    engine: Engine, run_day: date, rows: int, days: int = UNMET_DAYS
) -> pd.DataFrame | None:
    """The most searched queries of the ``days`` shop days up to ``run_day`` that match no
    product or convert nothing (``search_demand``, written by the daily run).

    Args:
        engine: The warehouse.
        run_day: The run date (the window's last day).
        rows: Queries to keep, the most searched first.
        days: Length of the window.

    Returns:
        Columns ``query``, ``searches``, ``sessions``, ``matching_products``,
        ``converted_sessions``, ``conversion`` (converted / sessions) and ``why``
        (``matches nothing`` or ``no cart adds``); ``None`` when the warehouse has no
        ``search_demand`` table.
    """
    if not sa.inspect(engine).has_table("search_demand"):
        return None
    frame = read_frame(
        engine,
        "report/select_unmet_searches",
        {
            "first_day": (run_day - timedelta(days=days - 1)).isoformat(),
            "last_day": run_day.isoformat(),
            "rows": rows,
        },
    )
    counts = ["searches", "sessions", "matching_products", "converted_sessions"]
    frame[counts] = frame[counts].apply(pd.to_numeric).astype("int64")  # MySQL sums: DECIMAL
    frame["conversion"] = frame["converted_sessions"] / frame["sessions"].where(
        frame["sessions"] > 0
    )
    frame["why"] = frame["matching_products"].map(
        lambda n: "matches nothing" if n == 0 else "no cart adds"
    )
    return frame


def _table_rows(
    engine: Engine, table: str, sql: str, params: dict[str, Any]
) -> pd.DataFrame | None:
    """Rows of a planners' table (``None`` when the warehouse predates it)."""
    if not sa.inspect(engine).has_table(table):
        return None
    return read_frame(engine, sql, params)


def product_names(engine: Engine) -> dict[str, str]:
    """Product name by SKU (``forecast_products``; empty before a run published names)."""
    frame = _table_rows(engine, "forecast_products", "report/select_products", {})
    if frame is None:
        return {}
    return dict(zip(frame["sku"].astype(str), frame["name"].astype(str), strict=True))


def forecast_changes(engine: Engine, run_day: date) -> pd.DataFrame | None:
    """A run's ``demand_forecast_changes`` rows (``None`` without the table)."""
    return _table_rows(
        engine,
        "demand_forecast_changes",
        "report/select_changes",
        {"run_date": run_day.isoformat()},
    )


def forecast_drivers(engine: Engine, run_day: date) -> pd.DataFrame | None:
    """A run's drivers per series and input group over the whole horizon (``None``
    without the table)."""
    frame = _table_rows(
        engine,
        "demand_forecast_drivers",
        "report/select_drivers",
        {"run_date": run_day.isoformat()},
    )
    if frame is not None:
        frame["contribution"] = frame["contribution"].astype(float)
    return frame


def order_suggestions(engine: Engine, run_day: date) -> pd.DataFrame | None:
    """A run's replenishment suggestions with a quantity to order, largest first
    (``None`` without the table)."""
    return _table_rows(
        engine,
        "replenishment_suggestions",
        "report/select_suggestions",
        {"run_date": run_day.isoformat()},
    )
