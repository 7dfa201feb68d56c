"""The shop's operational tables as frames, and loading them into SQLite or MySQL."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.db import dialect_of, execute_script, insert_rows

__all__ = [
    "TABLE_COLUMNS",
    "ShopData",
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
}


@dataclass(frozen=True)
class ShopData:
    """One frame per source table; columns as in :data:`TABLE_COLUMNS`.

    Dates are ``datetime64`` columns; ``orders.ordered_at`` is a timestamp.
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
    """Create ``demand_forecast`` and ``forecast_runs`` if they do not exist (idempotent)."""
    with engine.begin() as conn:
        execute_script(conn, "schema/create_forecast_tables")


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


def load_shop(engine: Engine, data: ShopData, replace: bool = True) -> dict[str, int]:
    """Write a shop into the source schema in one transaction.

    Args:
        engine: Source database.
        data: Frames to write.
        replace: Empty the tables first, so loading the same data twice gives the same
            database (the default, and what ``seed-demo`` and the importers use).

    Returns:
        Rows written per table.
    """
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
