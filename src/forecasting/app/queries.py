"""What the planner app reads from the warehouse and the one thing it writes.

Every read is a file of ``include/sql/app/`` with bound parameters. A table the warehouse
does not have (a warehouse from before the tables existed, or a role without the grant)
reads as an empty frame: the page then says "no drivers yet" instead of failing. The only
write is :func:`record_decision`, a new row in ``replenishment_decisions``; nothing here
changes a forecast or a suggestion.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.db import dialect_of, read_frame, render_sql

__all__ = [
    "DECISION_APPROVED",
    "DECISION_EDITED",
    "HISTORY_DAYS",
    "TOTAL_DAYS",
    "Decision",
    "DecisionError",
    "Overview",
    "SeriesPage",
    "existing_tables",
    "overview",
    "parse_quantity",
    "record_decision",
    "series_page",
]

log = logging.getLogger(__name__)

#: Days of the forecast the index sums per series (the "28-day forecast total").
TOTAL_DAYS = 28
#: Days of history before the run date the series chart shows.
HISTORY_DAYS = 90
#: Past decisions shown on a series page.
DECISIONS_SHOWN = 20
DECISION_APPROVED = "approved"
DECISION_EDITED = "edited"
#: Longest note kept (the column's width); a longer one is refused, not cut.
NOTE_MAX = 500
#: Longest planner name (the column's width).
NAME_MAX = 128
#: Seconds tried after the decision's own when the series has decisions at that second.
_SAME_SECOND_TRIES = 5


class DecisionError(ValueError):
    """A decision the app refuses (its message is shown to the planner as is)."""


def existing_tables(engine: Engine) -> set[str]:
    """Names of the tables the connection can see (on MySQL: those it has a grant on)."""
    return set(sa.inspect(engine).get_table_names())


def _read(
    engine: Engine,
    tables: set[str],
    table: str,
    name: str,
    params: dict[str, Any],
    columns: tuple[str, ...],
) -> pd.DataFrame:
    """``app/<name>.sql`` as a frame; an empty frame with ``columns`` if ``table`` is
    missing."""
    if table not in tables:
        return pd.DataFrame(columns=list(columns))
    return read_frame(engine, f"app/{name}", params)


def _day(value: Any) -> date:
    """A DATE column's value as a ``date`` (SQLite returns text, MySQL ``date``)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _days(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    if not frame.empty:
        frame[column] = [_day(v) for v in frame[column]]
    return frame


# --------------------------------------------------------------------------- index
@dataclass(frozen=True)
class Overview:
    """The index page's data.

    Attributes:
        run_date: The latest published run (``None``: nothing published yet).
        previous_run_date: The run before it, which the change compares with.
        model_version: The latest run's model version.
        rows: One dict per series matching the filters: ``sku``, ``location_id``,
            ``name``, ``category``, ``total`` (forecast over the 28 days after the run),
            ``change`` (``total`` minus the previous run's; ``None`` for a new series) and
            ``suggested_qty`` (``None`` without a suggestion).
        series_count: Series of the latest run before filtering.
        categories: Every category, for the filter's choices.
        locations: Every location, for the filter's choices.
        has_products: Whether the warehouse has product names.
        has_suggestions: Whether it has replenishment suggestions for the run.
    """

    run_date: date | None
    previous_run_date: date | None = None
    model_version: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    series_count: int = 0
    categories: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    has_products: bool = False
    has_suggestions: bool = False


def _totals(engine: Engine, run_day: date) -> pd.DataFrame:
    params = {
        "run_date": run_day.isoformat(),
        "last_target": (run_day + timedelta(days=TOTAL_DAYS)).isoformat(),
    }
    return read_frame(engine, "app/select_series_totals", params)


def _matches(text: str, needle: str) -> bool:
    return needle.casefold() in text.casefold()


def overview(
    engine: Engine,
    query: str = "",
    category: str = "",
    location: str = "",
    limit: int = 500,
) -> Overview:
    """The latest run's series, filtered.

    Args:
        engine: The warehouse.
        query: Text to find in the SKU, product name, category or location (any case).
        category: Keep only this category ("" = all).
        location: Keep only this location ("" = all).
        limit: Most rows returned (the largest changes first, then by SKU).

    Returns:
        The :class:`Overview`; ``run_date`` is ``None`` if nothing was published.
    """
    tables = existing_tables(engine)
    if "forecast_runs" not in tables or "demand_forecast" not in tables:
        return Overview(run_date=None)
    runs = _days(read_frame(engine, "app/select_runs", {}), "run_date")
    if runs.empty:
        return Overview(run_date=None)
    run_day = runs["run_date"].iloc[0]
    previous = runs["run_date"].iloc[1] if len(runs) > 1 else None
    frame = _totals(engine, run_day)
    series_count = len(frame)
    if previous is not None:
        before = _totals(engine, previous).rename(columns={"total": "previous"})
        frame = frame.merge(before, on=["sku", "location_id"], how="left")
        frame["change"] = frame["total"] - frame["previous"]
    else:
        frame["change"] = math.nan
    products = _read(
        engine, tables, "forecast_products", "select_products", {}, ("sku", "name", "category")
    )
    frame = frame.merge(products, on="sku", how="left")
    suggestions = _read(
        engine,
        tables,
        "replenishment_suggestions",
        "select_suggested_quantities",
        {"run_date": run_day.isoformat()},
        ("sku", "location_id", "suggested_qty"),
    )
    frame = frame.merge(suggestions, on=["sku", "location_id"], how="left")
    frame["name"] = frame["name"].fillna("").astype(str)
    frame["category"] = frame["category"].fillna("").astype(str)
    categories = sorted(c for c in frame["category"].unique() if c)
    locations = sorted(str(v) for v in frame["location_id"].unique())
    keep = [
        (not query or any(_matches(str(r[c]), query.strip()) for c in _SEARCHED))
        and (not category or r["category"] == category)
        and (not location or r["location_id"] == location)
        for r in frame.to_dict("records")
    ]
    frame = frame.loc[keep]
    frame = frame.assign(_order=-frame["change"].abs().fillna(0.0)).sort_values(
        ["_order", "sku", "location_id"]
    )
    rows = [
        {
            "sku": str(r["sku"]),
            "location_id": str(r["location_id"]),
            "name": r["name"],
            "category": r["category"],
            "total": float(r["total"]),
            "change": None if pd.isna(r["change"]) else float(r["change"]),
            "suggested_qty": None if pd.isna(r["suggested_qty"]) else float(r["suggested_qty"]),
        }
        for r in frame.head(limit).to_dict("records")
    ]
    return Overview(
        run_date=run_day,
        previous_run_date=previous,
        model_version=str(runs["model_version"].iloc[0]),
        rows=rows,
        series_count=series_count,
        categories=categories,
        locations=locations,
        has_products=not products.empty,
        has_suggestions=not suggestions.empty,
    )


_SEARCHED = ("sku", "name", "category", "location_id")


# --------------------------------------------------------------------------- series
@dataclass(frozen=True)
class SeriesPage:
    """A series page's data (frames are empty where the warehouse has nothing).

    Attributes:
        sku: The series' SKU.
        location_id: Its location.
        run_date: The latest run (``None``: nothing published).
        name: The product's name ("" if unknown).
        category: Its category ("" if unknown).
        forecast: ``target_date, forecast, p10, p50, p90, model_name, model_version,
            cold_start`` of the run.
        history: ``ds, units`` from :data:`HISTORY_DAYS` before the run on (after the run
            date: actuals as they arrive).
        actuals: ``target_date, actual`` monitoring joined to the run's forecasts.
        drivers: ``horizon_bucket, input_group, contribution, model_version``.
        changes: ``previous_run_date, part, input_group, contribution``.
        leadtime: ``days, forecast, p50, p80, p90, p95, p99, model_version``.
        suggestion: The run's suggestion (``None`` if there is none).
        decisions: Past decisions on the series, newest first.
        missing: Tables the warehouse lacks, of those the page reads.
    """

    sku: str
    location_id: str
    run_date: date | None
    name: str = ""
    category: str = ""
    forecast: pd.DataFrame = field(default_factory=pd.DataFrame)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    actuals: pd.DataFrame = field(default_factory=pd.DataFrame)
    drivers: pd.DataFrame = field(default_factory=pd.DataFrame)
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    leadtime: pd.DataFrame = field(default_factory=pd.DataFrame)
    suggestion: dict[str, Any] | None = None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    missing: tuple[str, ...] = ()


_SERIES_TABLES = (
    "demand_forecast",
    "forecast_runs",
    "forecast_products",
    "demand_history",
    "forecast_accuracy",
    "demand_forecast_drivers",
    "demand_forecast_changes",
    "demand_forecast_leadtime",
    "replenishment_suggestions",
    "replenishment_decisions",
)


def _latest_run(engine: Engine, tables: set[str]) -> date | None:
    if "forecast_runs" not in tables:
        return None
    runs = _days(read_frame(engine, "app/select_runs", {}), "run_date")
    return None if runs.empty else runs["run_date"].iloc[0]


def series_page(engine: Engine, sku: str, location_id: str) -> SeriesPage:
    """Everything a series page shows, for the latest run.

    Args:
        engine: The warehouse.
        sku: The series' SKU (exactly as published).
        location_id: Its location.

    Returns:
        The :class:`SeriesPage` (``forecast`` empty if the run has no such series).
    """
    tables = existing_tables(engine)
    missing = tuple(t for t in _SERIES_TABLES if t not in tables)
    run_day = _latest_run(engine, tables)
    keys = {"sku": sku, "location_id": location_id}
    product = _read(engine, tables, "forecast_products", "select_product", {"sku": sku}, ())
    name = str(product["name"].iloc[0]) if not product.empty else ""
    category = str(product["category"].iloc[0]) if not product.empty else ""
    decisions = _read(
        engine,
        tables,
        "replenishment_decisions",
        "select_series_decisions",
        {**keys, "rows": DECISIONS_SHOWN},
        ("run_date", "suggested_qty", "order_qty", "decision", "decided_by", "decided_at", "note"),
    )
    decisions_rows = [
        {**r, "run_date": _day(r["run_date"]), "decided_at": str(r["decided_at"])[:19]}
        for r in decisions.to_dict("records")
    ]
    if run_day is None:
        return SeriesPage(
            sku, location_id, None, name, category, decisions=decisions_rows, missing=missing
        )
    run = {**keys, "run_date": run_day.isoformat()}
    forecast = _days(
        _read(engine, tables, "demand_forecast", "select_series_forecast", run, ()),
        "target_date",
    )
    first_day = run_day - timedelta(days=HISTORY_DAYS - 1)
    history = _read(
        engine,
        tables,
        "demand_history",
        "select_series_history",
        {**keys, "first_day": first_day.isoformat()},
        ("ds", "units"),
    )
    actuals = _read(
        engine, tables, "forecast_accuracy", "select_series_actuals", run, ("target_date", "actual")
    )
    drivers = _read(
        engine,
        tables,
        "demand_forecast_drivers",
        "select_series_drivers",
        run,
        ("horizon_bucket", "input_group", "contribution", "model_version"),
    )
    changes = _read(
        engine,
        tables,
        "demand_forecast_changes",
        "select_series_changes",
        run,
        ("previous_run_date", "part", "input_group", "contribution"),
    )
    leadtime = _read(engine, tables, "demand_forecast_leadtime", "select_series_leadtime", run, ())
    suggestion = _read(
        engine, tables, "replenishment_suggestions", "select_series_suggestion", run, ()
    )
    return SeriesPage(
        sku=sku,
        location_id=location_id,
        run_date=run_day,
        name=name,
        category=category,
        forecast=forecast,
        history=_days(history, "ds"),
        actuals=_days(actuals, "target_date"),
        drivers=drivers,
        changes=_days(changes, "previous_run_date"),
        leadtime=leadtime,
        suggestion=None if suggestion.empty else suggestion.iloc[0].to_dict(),
        decisions=decisions_rows,
        missing=missing,
    )


# --------------------------------------------------------------------------- decisions
@dataclass(frozen=True)
class Decision:
    """A decision as recorded (one ``replenishment_decisions`` row)."""

    run_date: date
    sku: str
    location_id: str
    suggested_qty: float
    order_qty: float
    decision: str
    decided_by: str
    decided_at: datetime
    note: str | None


def parse_quantity(text: str) -> float:
    """A planner's order quantity: a finite number >= 0.

    Raises:
        DecisionError: Saying what was wrong with ``text``.
    """
    try:
        value = float(text.strip())
    except ValueError:
        raise DecisionError(f"the quantity must be a number, not {text.strip()!r}") from None
    if not math.isfinite(value) or value < 0:
        raise DecisionError(f"the quantity must be a number of at least 0, not {text.strip()}")
    return value


def record_decision(
    engine: Engine,
    run_day: date,
    sku: str,
    location_id: str,
    quantity: str,
    decided_by: str,
    note: str = "",
    now: datetime | None = None,
) -> Decision:
    """Record a planner's decision on a run's suggestion (a new row; nothing else changes).

    The suggested quantity is read from the warehouse, not taken from the form: the
    decision is ``approved`` when the planner orders exactly it, else ``edited``.

    Args:
        engine: The warehouse (needs ``SELECT`` on ``replenishment_suggestions`` and
            ``INSERT`` on ``replenishment_decisions``).
        run_day: The suggestion's run date.
        sku: The series' SKU.
        location_id: Its location.
        quantity: The quantity to order, as typed.
        decided_by: Who decided (an auth proxy's user, or the name the planner typed).
        note: An optional note (at most 500 characters).
        now: The decision's time (default: now, UTC; kept to the second).

    Returns:
        The recorded :class:`Decision`.

    Raises:
        DecisionError: For a quantity that is not a number >= 0, no name, a note too long,
            no suggestion to decide on, or more than a few decisions on the suggestion within
            the same seconds.
    """
    order_qty = parse_quantity(quantity)
    decided_by = decided_by.strip()
    if not decided_by:
        raise DecisionError("say who you are: the name field is required")
    if len(decided_by) > NAME_MAX:
        raise DecisionError(f"the name is longer than {NAME_MAX} characters")
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise DecisionError(f"the note is longer than {NOTE_MAX} characters ({len(note)})")
    tables = existing_tables(engine)
    if "replenishment_decisions" not in tables:
        raise DecisionError("this warehouse has no replenishment_decisions table yet")
    run = {"run_date": run_day.isoformat(), "sku": sku, "location_id": location_id}
    suggestion = _read(
        engine, tables, "replenishment_suggestions", "select_series_suggestion", run, ()
    )
    if suggestion.empty:
        raise DecisionError(f"there is no suggestion for {sku} at {location_id} on {run_day}")
    suggested = float(suggestion["suggested_qty"].iloc[0])
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None, microsecond=0)
    sql = sa.text(render_sql("app/insert_replenishment_decision", dialect_of(engine)))
    # decided_at is part of the key and kept to the second: a second decision on the
    # series within the same second takes the next free second.
    for attempt in range(_SAME_SECOND_TRIES):
        decided_at = stamp + timedelta(seconds=attempt)
        decision = Decision(
            run_date=run_day,
            sku=sku,
            location_id=location_id,
            suggested_qty=suggested,
            order_qty=order_qty,
            decision=DECISION_APPROVED if order_qty == suggested else DECISION_EDITED,
            decided_by=decided_by,
            decided_at=decided_at,
            note=note or None,
        )
        params = {
            **run,
            "suggested_qty": suggested,
            "order_qty": order_qty,
            "decision": decision.decision,
            "decided_by": decided_by,
            "decided_at": decided_at.isoformat(sep=" "),
            "note": decision.note,
        }
        try:
            with engine.begin() as conn:
                conn.execute(sql, params)
            break
        except sa.exc.IntegrityError:
            continue
    else:
        raise DecisionError(
            f"{_SAME_SECOND_TRIES} decisions on this suggestion were recorded in the last "
            "seconds: reload the page to see them, and submit again if you meant another"
        )
    log.info(
        "decision %s on %s/%s (%s): %s of %s by %s",
        decision.decision,
        sku,
        location_id,
        run_day,
        order_qty,
        suggested,
        decided_by,
    )
    return decision
