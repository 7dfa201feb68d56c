"""Customer order lines and web events for the customer models, pseudonymised as read.

The raw customer and order ids exist only in the rows the database cursor returns: each
chunk is pseudonymised (:mod:`forecasting.customers.privacy`) before anything else sees it,
so partitions, MLflow and models only ever hold pseudonyms. Customers in
``customer_optouts`` are left out by the query itself; orders without a customer are
counted and left out. Identified customers' item events (the optional ``web_events``
table; :func:`read_customer_events`) are read the same way: opted-out customers' events
are left out by the query, ids pseudonymised before anything else sees them, and only the
per customer, SKU, day and event type aggregate
(:func:`~forecasting.behaviour.events.customer_events`) is kept.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.behaviour.events import (
    CUSTOMER_COLUMNS,
    EVENT_COLUMNS,
    EventCleaning,
    clean_events,
    customer_events,
    empty_customer_events,
)
from forecasting.customers.features import LINE_COLUMNS
from forecasting.customers.privacy import pseudonymise
from forecasting.db import read_frame, stream_frames
from forecasting.extraction.source import NON_PRODUCT_CATEGORY
from forecasting.extraction.window import month_chunks, time_segments

__all__ = [
    "CustomerEvents",
    "CustomerExtract",
    "read_customer_events",
    "read_customer_lines",
]


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CustomerExtract:
    """Pseudonymised customer lines of a window, and what was left out.

    Attributes:
        lines: :data:`~forecasting.customers.features.LINE_COLUMNS`.
        counts: ``orders`` in the window, ``without_customer`` and ``opted_out`` orders
            (left out), ``lines`` and ``customers`` kept.
        fingerprint: SHA-256 of the lines.
    """

    lines: pd.DataFrame
    counts: dict[str, int]
    fingerprint: str


def read_customer_lines(
    engine: Engine, first: date, last: date, key: bytes, shop_tz: str, source_tz: str
) -> CustomerExtract:
    """Every order line of identified customers between shop days ``first`` and ``last``,
    pseudonymised chunk by chunk (see the module docstring)."""
    parts = []
    counts = {"orders": 0, "without_customer": 0, "opted_out": 0}
    for chunk_first, chunk_last in month_chunks(first, last):
        for seg in time_segments(chunk_first, chunk_last, shop_tz, source_tz):
            params = {**seg.params(), "excluded_category": NON_PRODUCT_CATEGORY}
            for frame in stream_frames(engine, "customers/select_customer_lines", params):
                frame["customer"] = pseudonymise(frame.pop("customer_id"), key, "customer")
                frame["order"] = pseudonymise(frame.pop("order_id"), key, "order")
                parts.append(frame)
            row = read_frame(engine, "customers/count_customer_orders", seg.params()).iloc[0]
            for name in counts:
                counts[name] += int(row[name] or 0)
    if parts:
        lines = pd.concat(parts, ignore_index=True)
    else:
        lines = pd.DataFrame({c: pd.Series(dtype=object) for c in LINE_COLUMNS})
    lines["ds"] = pd.to_datetime(lines["ds"])
    lines["quantity"] = lines["quantity"].astype("int64")
    lines["unit_price"] = lines["unit_price"].astype(float)
    lines["cancelled"] = lines["cancelled"].astype("int64")
    lines = lines.loc[:, list(LINE_COLUMNS)].sort_values(
        ["customer", "ds", "order", "sku"], ignore_index=True
    )
    counts.update(lines=len(lines), customers=int(lines["customer"].nunique()))
    digest = hashlib.sha256(pd.util.hash_pandas_object(lines, index=False).to_numpy().tobytes())
    log.info(
        "customer lines %s..%s: %d lines, %d customers (%d orders without a customer and %d of "
        "customers who opted out left out)",
        first,
        last,
        counts["lines"],
        counts["customers"],
        counts["without_customer"],
        counts["opted_out"],
    )
    return CustomerExtract(lines, counts, digest.hexdigest())


@dataclass(frozen=True)
class CustomerEvents:
    """Identified customers' item events of a window, aggregated.

    Attributes:
        events: :data:`~forecasting.behaviour.events.CUSTOMER_COLUMNS` (pseudonymous
            customers); no rows without the table or its rows.
        counts: ``rows`` read, ``duplicate_events`` and ``bot_events`` dropped, ``rows``
            kept in the aggregate and its ``customers``.
        fingerprint: SHA-256 of the aggregate (empty string without events).
    """

    events: pd.DataFrame
    counts: dict[str, int]
    fingerprint: str


def _merge_days(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per customer, SKU, day and event type (a day may span two reads)."""
    if not parts:
        return empty_customer_events()
    frame = pd.concat(parts, ignore_index=True)
    out = (
        frame.groupby(["customer", "sku", "ds", "event_type"], sort=False)
        .agg(events=("events", "sum"), last_at=("last_at", "max"))
        .reset_index()
    )
    out["events"] = out["events"].astype("int64")
    return out.loc[:, list(CUSTOMER_COLUMNS)].sort_values(
        ["customer", "ds", "sku", "event_type"], ignore_index=True
    )


def read_customer_events(
    engine: Engine, first: date, last: date, key: bytes, shop_tz: str, source_tz: str
) -> CustomerEvents:
    """Identified customers' item events (views, cart adds and removes, wishlist adds; no
    searches) on shop days ``first`` .. ``last``, aggregated per customer, SKU, day and type.

    ``include/sql/customers/select_customer_web_events.sql`` leaves out anonymous visitors
    and customers in ``customer_optouts``; each chunk's customer and session ids are
    pseudonymised (:func:`~forecasting.customers.privacy.pseudonymise`, the orders' key)
    as it is read, cleaned (:func:`~forecasting.behaviour.events.clean_events`: repeated
    event ids and bot sessions) and aggregated month by month, so memory holds one
    month's identified events at most. The table is optional: without it (or without a
    ``customer_optouts`` table to honour opt-outs, logged) the frame is empty and the
    customer models run exactly as without events.
    """
    inspector = sa.inspect(engine)
    if not inspector.has_table("web_events"):
        return CustomerEvents(empty_customer_events(), {"rows": 0}, "")
    if not inspector.has_table("customer_optouts"):
        log.warning("web_events not read: no customer_optouts table to honour opt-outs")
        return CustomerEvents(empty_customer_events(), {"rows": 0}, "")
    parts, cleaning = [], EventCleaning()
    for chunk_first, chunk_last in month_chunks(first, last):
        raw = []
        for seg in time_segments(chunk_first, chunk_last, shop_tz, source_tz):
            for frame in stream_frames(
                engine, "customers/select_customer_web_events", seg.params()
            ):
                frame["customer"] = pseudonymise(frame.pop("customer_id"), key, "customer")
                frame["session"] = pseudonymise(frame.pop("session_id"), key, "session")
                frame["query"] = None
                raw.append(frame)
        if not raw:
            continue
        month = pd.concat(raw, ignore_index=True)
        month["occurred_at"] = pd.to_datetime(month["occurred_at"]).astype("datetime64[ns]")
        month = month.astype({"event_id": str, "sku": str, "location_id": str})
        clean, counted = clean_events(month.loc[:, list(EVENT_COLUMNS)])
        cleaning = cleaning + counted
        parts.append(customer_events(clean))
    events = _merge_days(parts)
    counts = {
        "rows": cleaning.rows,
        "duplicate_events": cleaning.duplicate_events,
        "bot_events": cleaning.bot_events,
        "aggregated_rows": len(events),
        "customers": int(events["customer"].nunique()),
    }
    digest = ""
    if len(events):
        hashed = pd.util.hash_pandas_object(events, index=False).to_numpy().tobytes()
        digest = hashlib.sha256(hashed).hexdigest()
    log.info(
        "customer web events %s..%s: %d events of %d customers (%d repeated and %d bot "
        "events dropped) -> %d rows",
        first,
        last,
        counts["rows"],
        counts["customers"],
        counts["duplicate_events"],
        counts["bot_events"],
        counts["aggregated_rows"],
    )
    return CustomerEvents(events, counts, digest)
