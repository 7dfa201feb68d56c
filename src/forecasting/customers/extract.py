"""Customer order lines for the customer models, pseudonymised as they are read.

The raw customer and order ids exist only in the rows the database cursor returns: each
chunk is pseudonymised (:mod:`forecasting.customers.privacy`) before anything else sees it,
so partitions, MLflow and models only ever hold pseudonyms. Customers in
``customer_optouts`` are left out by the query itself; orders without a customer are
counted and left out.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy.engine import Engine

from forecasting.customers.features import LINE_COLUMNS
from forecasting.customers.privacy import pseudonymise
from forecasting.db import read_frame, stream_frames
from forecasting.extraction.source import NON_PRODUCT_CATEGORY
from forecasting.extraction.window import month_chunks, time_segments

__all__ = ["CustomerExtract", "read_customer_lines"]

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
