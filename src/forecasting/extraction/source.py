"""Reading the shop's source database: schema, catalogue, data-quality counts, demand.

Everything here is a read with bound parameters from ``include/sql/extract``. Only the
``sync_source`` step talks to the source database; every later task reads storage.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.db import read_frame, stream_frames
from forecasting.errors import NonRetryableError
from forecasting.extraction.window import time_segments

__all__ = [
    "NON_PRODUCT_CATEGORY",
    "OPTIONAL_TABLES",
    "REQUIRED_COLUMNS",
    "REVIEW_COLUMNS",
    "Catalog",
    "DemandChunk",
    "SchemaDriftError",
    "check_source_schema",
    "empty_reviews",
    "read_catalog",
    "read_demand",
    "read_line_quality",
    "read_reviews",
]

log = logging.getLogger(__name__)

#: Product category that is not demand (postage, fees, vouchers).
NON_PRODUCT_CATEGORY = "non-product"
#: The source columns extraction reads, per table. A renamed or dropped one stops the run.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": ("sku", "name", "description", "category", "list_price", "launched_on"),
    "locations": ("location_id",),
    "orders": ("order_id", "location_id", "ordered_at", "status"),
    "order_lines": ("order_id", "sku", "quantity", "unit_price"),
    "promotions": ("sku", "location_id", "starts_on", "ends_on", "discount_pct"),
    "calendar_events": ("event_date", "name", "kind"),
}
#: Tables that may be absent; when present, their columns are checked too.
OPTIONAL_TABLES: dict[str, tuple[str, ...]] = {
    # Units on hand at close per SKU, location and day: days at zero are stock-outs, whose
    # sales are not demand (excluded from training targets and accuracy).
    "inventory_snapshots": ("sku", "location_id", "snapshot_date", "units_on_hand"),
    # Customers' reviews: review volume, rating and text sentiment become features.
    "product_reviews": ("review_id", "sku", "customer_id", "rating", "title", "body", "created_at"),
}
#: Columns of the extracted reviews (:func:`read_reviews`), in order.
REVIEW_COLUMNS = ("review_id", "sku", "customer", "rating", "title", "body", "created_at")
#: Days of order lines the quality counts cover (ending with the run's day).
QUALITY_DAYS = 28


class SchemaDriftError(NonRetryableError):
    """A source table or column the extraction reads is missing (renamed or dropped)."""


def check_source_schema(engine: Engine) -> dict[str, list[str]]:
    """Check that every table and column extraction reads exists.

    Returns:
        The columns found per table.

    Raises:
        SchemaDriftError: Naming each missing table or column and what the table has.
    """
    inspector = sa.inspect(engine)
    tables = set(inspector.get_table_names())
    found: dict[str, list[str]] = {}
    problems: list[str] = []
    for table, required in {**REQUIRED_COLUMNS, **OPTIONAL_TABLES}.items():
        if table not in tables:
            if table in REQUIRED_COLUMNS:
                problems.append(f"table {table!r} is missing")
            continue
        columns = [c["name"] for c in inspector.get_columns(table)]
        found[table] = columns
        present = {c.lower() for c in columns}
        for column in required:
            if column.lower() not in present:
                problems.append(
                    f"table {table!r} has no column {column!r} (columns: {', '.join(columns)})"
                )
    if problems:
        raise SchemaDriftError(
            "source schema drift: "
            + "; ".join(problems)
            + ". Extraction reads these columns; rename them back or update include/sql/extract."
        )
    return found


@dataclass(frozen=True)
class Catalog:
    """The catalogue and calendar a run uses, read once by ``sync_source``.

    Attributes:
        products: ``sku, name, description, category, list_price, launched_on`` of
            sellable products.
        locations: ``location_id``.
        promotions: Promotions overlapping the run's window and horizon.
        events: Calendar events in the window and horizon (``ds, name, kind``).
        stockouts: Days out of stock (``sku, location_id, ds``) from the optional
            ``inventory_snapshots`` table (empty without it).
        reviews: Reviews of the window's days from the optional ``product_reviews``
            table (:func:`read_reviews`; empty without it).
    """

    products: pd.DataFrame
    locations: pd.DataFrame
    promotions: pd.DataFrame
    events: pd.DataFrame
    stockouts: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {
                "sku": pd.Series(dtype=object),
                "location_id": pd.Series(dtype=object),
                "ds": pd.Series(dtype="datetime64[ns]"),
            }
        )
    )

    reviews: pd.DataFrame = field(default_factory=lambda: empty_reviews())

    FRAMES = ("products", "locations", "promotions", "events", "stockouts", "reviews")


def empty_reviews() -> pd.DataFrame:
    """A reviews frame without rows (:data:`REVIEW_COLUMNS`)."""
    return pd.DataFrame(
        {
            "review_id": pd.Series(dtype=object),
            "sku": pd.Series(dtype=object),
            "customer": pd.Series(dtype=object),
            "rating": pd.Series(dtype=float),
            "title": pd.Series(dtype=object),
            "body": pd.Series(dtype=object),
            "created_at": pd.Series(dtype="datetime64[ns]"),
        }
    )


def read_catalog(
    engine: Engine,
    window_start: date,
    horizon_end: date,
    *,
    last_day: date | None = None,
    shop_tz: str = "UTC",
    source_tz: str = "UTC",
    customer_key: bytes | None = None,
) -> Catalog:
    """Read products, locations, promotions and calendar events, and the optional tables.

    Args:
        engine: The source database.
        window_start: First history day.
        horizon_end: Day after the last forecast day.
        last_day: The run's day. With it, the reviews of shop days ``window_start`` ..
            ``last_day`` are read when ``product_reviews`` exists (:func:`read_reviews`);
            without it (the default) none are: a review written after the run's day must
            never enter it, and only the run knows its day.
        shop_tz: The shop's timezone (the reviews' days).
        source_tz: Timezone of the source's naive timestamps.
        customer_key: Pseudonymisation key for the reviewers' ids (see
            :func:`read_reviews`).
    """
    days = {
        "start_day": window_start.isoformat(),
        "horizon_end_day": horizon_end.isoformat(),
        "excluded_category": NON_PRODUCT_CATEGORY,
    }
    products = read_frame(engine, "extract/select_products", days)
    products["list_price"] = products["list_price"].astype(float)
    products["launched_on"] = pd.to_datetime(products["launched_on"])
    locations = read_frame(engine, "extract/select_locations", {})
    promotions = read_frame(engine, "extract/select_promotions", days)
    promotions["discount_pct"] = promotions["discount_pct"].astype(float)
    events = read_frame(engine, "extract/select_calendar_events", days)
    events["ds"] = pd.to_datetime(events["ds"])
    catalog = Catalog(products, locations, promotions, events)
    if sa.inspect(engine).has_table("inventory_snapshots"):
        stockouts = read_frame(engine, "extract/select_stockouts", days)
        stockouts["ds"] = pd.to_datetime(stockouts["ds"])
        catalog = dataclasses.replace(catalog, stockouts=stockouts)
    if last_day is not None:
        reviews = read_reviews(engine, window_start, last_day, shop_tz, source_tz, customer_key)
        catalog = dataclasses.replace(catalog, reviews=reviews)
    return catalog


def read_reviews(
    engine: Engine,
    first: date,
    last: date,
    shop_tz: str,
    source_tz: str,
    customer_key: bytes | None = None,
) -> pd.DataFrame:
    """Reviews written on shop days ``first`` .. ``last`` from the optional ``product_reviews``.

    The table is optional: absent or empty, the frame is empty and nothing downstream
    changes. Reviews of customers in ``customer_optouts`` are left out by the query; a
    source without ``customer_optouts`` cannot honour opt-outs, so its reviews are not read
    (logged). Each raw customer id is replaced as it is read: by its keyed pseudonym (the
    customer models' ``HMAC`` of :func:`~forecasting.customers.privacy.pseudonymise`) when
    ``customer_key`` is given, else by ``None`` (the demand features are per SKU and need
    no customer).

    Returns:
        :data:`REVIEW_COLUMNS`: ``review_id`` (str), ``sku`` (str), ``customer`` (pseudonym
        or ``None``), ``rating`` (float64, as stored: validation checks 1..5), ``title``,
        ``body`` (str or ``None``), ``created_at`` (datetime64, naive, the shop's local
        time, converted like orders' times), sorted by ``created_at``, ``review_id``.
    """
    inspector = sa.inspect(engine)
    if not inspector.has_table("product_reviews"):
        return empty_reviews()
    if not inspector.has_table("customer_optouts"):
        log.warning("product_reviews not read: no customer_optouts table to honour opt-outs")
        return empty_reviews()
    parts = []
    for seg in time_segments(first, last, shop_tz, source_tz):
        parts.append(read_frame(engine, "extract/select_product_reviews", seg.params()))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if frame.empty:
        return empty_reviews()
    raw = frame.pop("customer_id")
    if customer_key is not None:
        from forecasting.customers.privacy import pseudonymise

        frame["customer"] = pseudonymise(raw, customer_key, "customer").to_numpy()
    else:
        frame["customer"] = None
    del raw
    frame["review_id"] = frame["review_id"].astype(str)
    frame["sku"] = frame["sku"].astype(str)
    frame["rating"] = pd.to_numeric(frame["rating"], errors="coerce").astype(float)
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    frame = frame.loc[:, list(REVIEW_COLUMNS)].astype({"customer": object})
    return frame.sort_values(["created_at", "review_id"], ignore_index=True)


def read_line_quality(
    engine: Engine, last_day: date, shop_tz: str, source_tz: str, days: int = QUALITY_DAYS
) -> dict[str, int]:
    """Count order lines of the last ``days`` days by what extraction does with them.

    Returns:
        ``line_count`` and the counts of lines with a NULL or unknown SKU or location,
        negative or zero quantities, cancelled orders, statuses not in canonical lower case,
        unknown statuses, and ``future_orders``: orders stamped after the run's day.
    """
    segments = time_segments(last_day - timedelta(days=days - 1), last_day, shop_tz, source_tz)
    counts: dict[str, int] = {}
    for seg in segments:
        row = read_frame(engine, "extract/select_line_quality", seg.params()).iloc[0]
        for key, value in row.items():
            counts[str(key)] = counts.get(str(key), 0) + int(0 if pd.isna(value) else value)
    end = segments[-1].params()["ts_end"] if segments else None
    future = read_frame(engine, "extract/count_orders_after", {"ts_end": end}).iloc[0, 0]
    counts["future_orders"] = int(future or 0)
    return counts


@dataclass(frozen=True)
class DemandChunk:
    """Daily demand of some shop days, and what the duplicate rule removed.

    Attributes:
        demand: ``sku, location_id, ds (datetime64), y (float), line_count (int),
            revenue (float)``: units, lines and units x unit price per SKU, location, day.
        duplicate_lines: Exact duplicate lines that were counted once.
    """

    demand: pd.DataFrame
    duplicate_lines: int


def read_demand(
    engine: Engine,
    first: date,
    last: date,
    shop_tz: str,
    source_tz: str,
    chunk_rows: int = 200_000,
) -> DemandChunk:
    """Daily demand of shop days ``first`` .. ``last`` (keep the range to about a month).

    Demand = units on order lines with a positive quantity, in orders whose status is not
    ``cancelled`` (any letter case, surrounding spaces ignored), of catalogue products that
    are not ``non-product``, at known locations; exact duplicate lines (same order, SKU,
    quantity and unit price) count once. Days are shop days (see
    :mod:`forecasting.extraction.window`). The lines are streamed from a server-side
    cursor and aggregated here.
    """
    parts = []
    for seg in time_segments(first, last, shop_tz, source_tz):
        params: dict[str, Any] = {**seg.params(), "excluded_category": NON_PRODUCT_CATEGORY}
        parts += list(stream_frames(engine, "extract/select_order_lines", params, chunk_rows))
    if not parts:
        empty = pd.DataFrame(
            {
                "sku": pd.Series(dtype=object),
                "location_id": pd.Series(dtype=object),
                "ds": pd.Series(dtype="datetime64[ns]"),
                "y": pd.Series(dtype=float),
                "line_count": pd.Series(dtype="int64"),
                "revenue": pd.Series(dtype=float),
            }
        )
        return DemandChunk(empty, 0)
    lines = pd.concat(parts, ignore_index=True)
    unique = lines.drop_duplicates(["order_id", "sku", "quantity", "unit_price"])
    unique = unique.assign(revenue=unique["quantity"] * unique["unit_price"].astype(float))
    demand = (
        unique.groupby(["sku", "location_id", "ds"], sort=False)
        .agg(y=("quantity", "sum"), line_count=("quantity", "size"), revenue=("revenue", "sum"))
        .reset_index()
    )
    demand["ds"] = pd.to_datetime(demand["ds"])
    demand["y"] = demand["y"].astype(float)
    demand["line_count"] = demand["line_count"].astype("int64")
    return DemandChunk(demand, len(lines) - len(unique))
