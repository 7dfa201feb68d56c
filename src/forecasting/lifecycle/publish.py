"""Replace a day's rows of several tables in one transaction.

Every publication -- the demand forecast (forecasts, lead-time quantiles, the run row) and
the customer models (propensity, recommendations, forgotten customers) -- is the same
transaction: for each table, delete the key's rows and insert the new ones; then whatever
else must happen atomically with it. A re-run of a date replaces its rows, never
duplicates them, and readers see the old rows or the new, never a mix. A lost connection
retries the whole transaction (:func:`forecasting.db.retrying`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from forecasting.db import dialect_of, insert_frame, render_sql, retrying

__all__ = ["TableWrite", "publish_in_one_transaction"]

#: Rows per ``INSERT`` batch.
CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class TableWrite:
    """One table's part of a publication: delete the key's rows, insert ``rows``.

    Attributes:
        delete: SQL file (``include/sql/<delete>.sql``) deleting the key's rows.
        key: Its bound parameters (e.g. ``{"run_date": "2024-06-30"}``).
        insert: SQL file inserting one row (``None``: only delete).
        rows: A frame (bulk-inserted with :func:`~forecasting.db.insert_frame`) or a list
            of parameter dicts (executed in batches).
    """

    delete: str
    key: Mapping[str, Any]
    insert: str | None = None
    rows: pd.DataFrame | list[dict[str, Any]] | None = field(default=None, repr=False)


def _write(conn: Connection, write: TableWrite, dialect: str) -> None:
    conn.execute(sa.text(render_sql(write.delete, dialect)), dict(write.key))
    if write.insert is None or write.rows is None:
        return
    if isinstance(write.rows, pd.DataFrame):
        insert_frame(conn, write.insert, write.rows, CHUNK_ROWS)
        return
    insert = sa.text(render_sql(write.insert, dialect))
    for start in range(0, len(write.rows), CHUNK_ROWS):
        conn.execute(insert, write.rows[start : start + CHUNK_ROWS])


def publish_in_one_transaction(
    engine: Engine,
    writes: Sequence[TableWrite],
    what: str,
    then: Callable[[Connection], None] | None = None,
) -> None:
    """Apply ``writes`` in order, then ``then``, in one transaction (retried whole).

    Args:
        engine: Warehouse database.
        writes: Each table's delete and insert.
        what: Names the publication in retry messages.
        then: Runs last inside the same transaction (e.g. deleting forgotten customers);
            it must be safe to run again when the transaction is retried.
    """
    dialect = dialect_of(engine)

    def transaction() -> None:
        with engine.begin() as conn:
            for write in writes:
                _write(conn, write, dialect)
            if then is not None:
                then(conn)

    retrying(transaction, what, engine.url)
