"""The shop's operational tables as frames, and loading them into SQLite or MySQL."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from forecasting.db import (
    dialect_of,
    execute_script,
    insert_rows,
    redact_url,
    render_sql,
    safe_identifier,
)
from forecasting.errors import ForeignDataError

__all__ = [
    "DEMO_MARKER_TABLE",
    "TABLE_COLUMNS",
    "ShopData",
    "claim_database",
    "create_forecast_tables",
    "create_source_tables",
    "load_shop",
]

log = logging.getLogger(__name__)

#: Column order of each source table, as created by ``schema/create_source_tables.sql``.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": ("sku", "name", "description", "category", "list_price", "launched_on"),
    "locations": ("location_id", "name", "kind"),
    "orders": ("order_id", "customer_id", "location_id", "ordered_at", "status"),
    "order_lines": ("order_id", "line_no", "sku", "quantity", "unit_price"),
    "promotions": ("promotion_id", "sku", "location_id", "starts_on", "ends_on", "discount_pct"),
    "calendar_events": ("event_date", "name", "kind"),
    "customer_optouts": ("customer_id", "opted_out_on"),
    "inventory_snapshots": ("sku", "location_id", "snapshot_date", "units_on_hand"),
    "product_reviews": (
        "review_id",
        "sku",
        "customer_id",
        "rating",
        "title",
        "body",
        "created_at",
    ),
    "web_events": (
        "event_id",
        "occurred_at",
        "session_id",
        "customer_id",
        "event_type",
        "sku",
        "location_id",
        "query",
    ),
    "purchase_orders": (
        "purchase_order_id",
        "sku",
        "location_id",
        "quantity",
        "ordered_on",
        "expected_on",
    ),
    "replenishment_policy": (
        "sku",
        "location_id",
        "lead_time_days",
        "review_period_days",
        "service_level",
        "pack_size",
        "min_order_qty",
    ),
}


@dataclass(frozen=True)
class ShopData:
    """One frame per source table; columns as in :data:`TABLE_COLUMNS`.

    Dates are ``datetime64`` columns; ``orders.ordered_at`` and
    ``product_reviews.created_at`` and
    ``web_events.occurred_at`` are timestamps (naive, the source's timezone). The
    optional tables (``customer_optouts``, ``inventory_snapshots``, ``product_reviews``,
    ``web_events``, ``purchase_orders``, ``replenishment_policy``)
    default to empty frames.
    """

    products: pd.DataFrame
    locations: pd.DataFrame
    orders: pd.DataFrame
    order_lines: pd.DataFrame
    promotions: pd.DataFrame
    calendar_events: pd.DataFrame
    customer_optouts: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["customer_id", "opted_out_on"])
    )
    inventory_snapshots: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["sku", "location_id", "snapshot_date", "units_on_hand"]
        )
    )
    product_reviews: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(TABLE_COLUMNS["product_reviews"]))
    )
    web_events: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(TABLE_COLUMNS["web_events"]))
    )
    purchase_orders: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(TABLE_COLUMNS["purchase_orders"]))
    )
    replenishment_policy: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(TABLE_COLUMNS["replenishment_policy"]))
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            frame = getattr(self, f.name)
            missing = set(TABLE_COLUMNS[f.name]) - set(frame.columns)
            if missing:
                raise ValueError(f"{f.name} lacks columns {sorted(missing)}")

    def row_counts(self) -> dict[str, int]:
        """Rows per table."""
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}


#: Indexes of the source tables extraction relies on: ``(index, table, column)``.
SOURCE_INDEXES = (
    ("ix_orders_ordered_at", "orders", "ordered_at"),
    ("ix_order_lines_sku", "order_lines", "sku"),
    ("ix_web_events_occurred_at", "web_events", "occurred_at"),
)


def create_source_tables(engine: Engine) -> None:
    """Create the shop's tables and indexes where they do not exist (idempotent)."""
    with engine.begin() as conn:
        execute_script(conn, "schema/create_source_tables")
        inspector = sa.inspect(conn)
        for index, table, column in SOURCE_INDEXES:
            if index not in {i["name"] for i in inspector.get_indexes(table)}:
                execute_script(conn, "schema/create_index", index=index, table=table, column=column)


def create_forecast_tables(engine: Engine) -> None:
    """Create the forecast tables and ``forecasting_leases`` if they do not exist
    (idempotent)."""
    with engine.begin() as conn:
        execute_script(conn, "schema/create_forecast_tables")
        execute_script(conn, "schema/create_lease_table")


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[tuple[object, ...]]:
    out = frame.loc[:, list(columns)].copy()
    for col in columns:
        series = out[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            is_timestamp = col.endswith("_at")
            fmt = "%Y-%m-%d %H:%M:%S" if is_timestamp else "%Y-%m-%d"
            out[col] = series.dt.strftime(fmt)
    out = out.astype(object).where(out.notna(), None)
    return list(out.itertuples(index=False, name=None))


#: Table whose presence says "a forecasting loader filled this database" (see
#: :func:`claim_database`).
DEMO_MARKER_TABLE = "forecasting_demo_shop"


def claim_database(conn: Connection, loaded_by: str) -> None:
    """Make sure a loader may (re)write the shop tables of ``conn``'s database.

    The loaders replace whole tables, so they only ever write into a database they
    created: one that carries the :data:`DEMO_MARKER_TABLE` marker, or one in which no
    table holds a single row (a new database; then the marker is left for next time). A
    database with any row in any table and no marker -- a real shop -- is refused before
    anything is created, deleted or written.

    Args:
        conn: A connection to the target database (the caller's transaction).
        loaded_by: The command claiming it, recorded in the marker (``seed-demo``).

    Raises:
        ForeignDataError: If the database holds rows forecasting did not write.
    """
    tables = sorted(sa.inspect(conn).get_table_names())
    if DEMO_MARKER_TABLE in tables:
        return
    for table in tables:
        if _holds_rows(conn, table):
            url = conn.engine.url
            hint = (
                f"; if {url.database} is a demo shop of an earlier version, delete it "
                "(`make clean`)"
                if dialect_of(conn) == "sqlite"
                else ""
            )
            raise ForeignDataError(
                f"refusing to write into {redact_url(url)}: table {table!r} holds rows that "
                f"forecasting did not write (no {DEMO_MARKER_TABLE} marker); {loaded_by} only "
                "fills an empty database or one it created -- give it a new database (the "
                f"demo's default is sqlite:///.data/shop.db){hint}"
            )
    execute_script(conn, "schema/create_demo_marker")
    execute_script(
        conn,
        "schema/insert_demo_marker",
        {"loaded_by": loaded_by, "claimed_at": datetime.now(UTC).isoformat(timespec="seconds")},
    )
    log.info("claimed %s for %s", redact_url(conn.engine.url), loaded_by)


def _holds_rows(conn: Connection, table: str) -> bool:
    try:
        name = safe_identifier(table)
    except ValueError:
        return True  # not a table forecasting would ever create: someone else's
    sql = render_sql("schema/select_any_row", dialect_of(conn), table=name)
    return conn.execute(sa.text(sql)).first() is not None


def load_shop(
    engine: Engine, data: ShopData, replace: bool = True, loaded_by: str = "load_shop"
) -> dict[str, int]:
    """Write a shop into the source schema in one transaction.

    Only into a database the loaders own (see :func:`claim_database`): a real shop's data
    is never deleted or mixed with generated rows.

    Args:
        engine: Source database.
        data: Frames to write.
        replace: Empty the tables first, so loading the same data twice gives the same
            database (the default, and what ``seed-demo`` and the importers use).
        loaded_by: The command loading, for the marker and messages (``seed-demo``).

    Returns:
        Rows written per table.

    Raises:
        ForeignDataError: If the database holds data forecasting did not write.
    """
    with engine.begin() as conn:
        claim_database(conn, loaded_by)
    create_source_tables(engine)
    written: dict[str, int] = {}
    with engine.begin() as conn:
        if replace:
            for table in reversed(TABLE_COLUMNS):
                execute_script(conn, "schema/delete_all_rows", table=table)
        for table, columns in TABLE_COLUMNS.items():
            written[table] = insert_rows(
                conn, table, columns, _records(getattr(data, table), columns)
            )
            log.info("loaded %d rows into %s (%s)", written[table], table, dialect_of(conn))
    return written
