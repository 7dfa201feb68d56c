"""A catalogue-scale synthetic shop, written in batches and bulk-loaded into MySQL.

``make scale-seed`` uses this to put 3,000 SKUs x 10 locations (30,000 series) x 3 years
of orders into MariaDB, and the website's event log of the last 90 days (about 30 views per
order line: some 60 million rows). The shop is
:func:`forecasting.sources.synthetic.generate_shop` run batch by batch (a few hundred SKUs
at a time, so memory stays bounded; the events of a batch are written a day at a time),
written to tab-separated files and loaded with ``LOAD DATA LOCAL INFILE`` -- hundreds of
thousands of rows a second, where row-by-row inserts manage a few tens of thousands.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.db import dialect_of, execute_script, make_engine, render_sql
from forecasting.sources.shop import (
    SOURCE_INDEXES,
    TABLE_COLUMNS,
    claim_database,
    create_source_tables,
)
from forecasting.sources.synthetic import generate_shop_streaming
from forecasting.sources.synthetic_events import FunnelConfig

__all__ = ["SCALE_EVENT_DAYS", "bulk_load", "write_scale_shop"]

log = logging.getLogger(__name__)

_NULL = "\\N"


#: Days of web events the scale shop gets (the last days of its history).
SCALE_EVENT_DAYS = 90


def _append(frame: pd.DataFrame, path: Path, columns: tuple[str, ...]) -> int:
    out = frame.loc[:, list(columns)].copy()
    for col in columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            # ISO text (``2024-07-01T09:30:00``; MySQL reads the T as the date/time
            # separator): many times faster than strftime on millions of event times.
            unit = "s" if col.endswith("_at") else "D"
            text = np.datetime_as_string(out[col].to_numpy().astype(f"datetime64[{unit}]"))
            out[col] = np.where(out[col].isna().to_numpy(), None, text.astype(object))
    out.to_csv(path, sep="\t", header=False, index=False, na_rep=_NULL, mode="a")
    return len(out)


def write_scale_shop(
    folder: str | Path,
    n_skus: int = 3000,
    n_locations: int = 10,
    days: int = 1097,
    end_date: str = "2024-07-01",
    seed: int = 11,
    batch_skus: int = 250,
    events: bool = True,
    event_days: int = SCALE_EVENT_DAYS,
) -> dict[str, int]:
    """Write a large synthetic shop as one tab-separated file per source table.

    Args:
        folder: Where ``<table>.tsv`` files go (replaced).
        n_skus: Products.
        n_locations: Locations (the first is the online channel).
        days: Days of orders ending at ``end_date``.
        end_date: Last day with orders.
        seed: Seed of the first batch (batch ``b`` uses ``seed + b``).
        batch_skus: SKUs generated at a time.
        events: Write ``web_events`` (the default funnel of
            :class:`~forecasting.sources.synthetic_events.FunnelConfig`), one day of a batch
            at a time; ``False``: none (the demand is the same).
        event_days: Days of events, the last of the history.

    Returns:
        Rows written per table.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for table in TABLE_COLUMNS:
        (folder / f"{table}.tsv").unlink(missing_ok=True)
    counts = dict.fromkeys(TABLE_COLUMNS, 0)
    started = time.perf_counter()
    for b, first in enumerate(range(0, n_skus, batch_skus)):
        size = min(batch_skus, n_skus - first)
        # Planned launches and reviews would take SKU numbers outside the batch's range.
        shop, event_log = generate_shop_streaming(
            size,
            n_locations,
            days,
            end_date,
            seed + b,
            planned_launches=0,
            reviews=False,
            funnel=FunnelConfig(event_days=event_days),
        )
        sku_map = {f"SKU-{i:05d}": f"SKU-{first + i:05d}" for i in range(1, size + 1)}
        prefix = f"B{b:03d}"
        products = shop.products.assign(sku=shop.products["sku"].map(sku_map))
        orders = shop.orders.assign(
            order_id=prefix + shop.orders["order_id"],
            customer_id=prefix + shop.orders["customer_id"],
        )
        lines = shop.order_lines.assign(
            order_id=prefix + shop.order_lines["order_id"],
            sku=shop.order_lines["sku"].map(sku_map),
        )
        promotions = shop.promotions.assign(
            promotion_id=prefix + shop.promotions["promotion_id"],
            sku=shop.promotions["sku"].map(sku_map),
        )
        frames = {
            "products": products,
            "orders": orders,
            "order_lines": lines,
            "promotions": promotions,
        }
        if b == 0:
            frames.update(locations=shop.locations, calendar_events=shop.calendar_events)
        for table, frame in frames.items():
            counts[table] += _append(frame, folder / f"{table}.tsv", TABLE_COLUMNS[table])
        written = 0
        if events:
            for day in event_log:  # one day of the batch in memory at a time
                written += _append_events(
                    _renamed_events(day, prefix, sku_map), folder / "web_events.tsv"
                )
            counts["web_events"] += written
        log.info(
            "batch %d: SKUs %d-%d, %d order lines, %d web events (%.0fs so far)",
            b,
            first + 1,
            first + size,
            len(lines),
            written,
            time.perf_counter() - started,
        )
    return counts


def _append_events(frame: pd.DataFrame, path: Path) -> int:
    """Append events to a TSV file, several times faster than ``to_csv`` (the log is tens
    of millions of rows). Generated text has no tab, newline or backslash to escape."""
    if frame.empty:
        return 0
    columns = []
    for col in TABLE_COLUMNS["web_events"]:
        if col == "occurred_at":
            text = np.datetime_as_string(frame[col].to_numpy().astype("datetime64[s]"))
            columns.append(text.astype(object))
        else:
            values = frame[col].to_numpy(dtype=object).copy()
            values[pd.isna(values)] = _NULL
            columns.append(values)
    line = columns[0]
    for values in columns[1:]:
        line = line + "\t" + values
    with path.open("a", encoding="utf-8") as out:
        out.write("\n".join(line.tolist()))
        out.write("\n")
    return len(frame)


def _renamed_events(day: pd.DataFrame, prefix: str, sku_map: dict[str, str]) -> pd.DataFrame:
    """A batch's events with the shop's ids: batch-prefixed event, session and customer ids
    (as its orders' ids are) and the shop-wide SKU numbers."""
    known = day["customer_id"].notna().to_numpy()
    customer = np.full(len(day), None, dtype=object)
    customer[known] = prefix + day["customer_id"].to_numpy()[known].astype(str)
    return day.assign(
        event_id=prefix + day["event_id"],
        session_id=prefix + day["session_id"],
        customer_id=customer,
        sku=day["sku"].map(sku_map),
    )


def bulk_load(engine: Engine, folder: str | Path) -> dict[str, int]:
    """Load ``<table>.tsv`` files into a MySQL/MariaDB database with ``LOAD DATA``.

    Only into a database the loaders own (see
    :func:`~forecasting.sources.shop.claim_database`). Tables are created if missing and
    emptied; indexes are dropped during the load and
    built afterwards (faster than maintaining them row by row). A table without a file
    (e.g. ``customer_optouts`` of a catalogue without customers) is left empty.

    Returns:
        Rows loaded per table.

    Raises:
        ValueError: For a database that is not MySQL/MariaDB.
        ForeignDataError: If the database holds data forecasting did not write.
    """
    if dialect_of(engine) != "mysql":
        raise ValueError("bulk loading needs MySQL or MariaDB (LOAD DATA LOCAL INFILE)")
    folder = Path(folder).resolve()
    with engine.begin() as conn:
        claim_database(conn, "scale-seed")
    create_source_tables(engine)
    loaded: dict[str, int] = {}
    with engine.begin() as conn:
        inspector = sa.inspect(conn)
        for index, table, _ in SOURCE_INDEXES:
            if index in {i["name"] for i in inspector.get_indexes(table)}:
                execute_script(conn, "schema/drop_index", index=index, table=table)
        for table in reversed(TABLE_COLUMNS):
            execute_script(conn, "schema/delete_all_rows", table=table)
    loader = make_engine(engine.url, local_infile=True)
    for table in TABLE_COLUMNS:
        if not (folder / f"{table}.tsv").exists():
            loaded[table] = 0
            continue
        sql = sa.text(render_sql("schema/load_tsv", "mysql", table=table))
        with loader.begin() as conn:
            result = conn.execute(sql, {"path": str(folder / f"{table}.tsv")})
            loaded[table] = int(result.rowcount)
        log.info("loaded %d rows into %s", loaded[table], table)
    create_source_tables(engine)  # builds the indexes dropped above
    return loaded
