"""Customer pseudonyms: keyed hashes, so no raw customer id leaves extraction.

A customer id becomes ``HMAC-SHA256(key, "customer:" + id)``, hex-encoded, truncated to 32
characters (128 bits). The key lives with the shop and the pipeline's secrets (an Airflow
connection or variable, or ``FORECASTING_CUSTOMER_KEY``), never in code; without it the
pseudonyms cannot be reversed or recomputed, with it the shop joins forecasts back to its
customers (``forecasting customers map`` writes the mapping into the shop's own database).
A missing key is an error, never a default.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from forecasting.errors import NonRetryableError

__all__ = [
    "KEY_ENV",
    "PSEUDONYM_LENGTH",
    "MissingKeyError",
    "customer_key",
    "pseudonymise",
    "write_pseudonym_map",
]

#: Environment variable the key is read from when no connection provides it.
KEY_ENV = "FORECASTING_CUSTOMER_KEY"
#: Hex characters kept of the HMAC (128 bits: collisions are out of reach).
PSEUDONYM_LENGTH = 32
_MIN_KEY_BYTES = 16


class MissingKeyError(NonRetryableError):
    """No pseudonymisation key was configured (or it is too short)."""


def customer_key(value: str | None = None) -> bytes:
    """The pseudonymisation key: ``value`` if given, else ``$FORECASTING_CUSTOMER_KEY``.

    Raises:
        MissingKeyError: If there is none, or it is shorter than 16 bytes.
    """
    key = value if value is not None else os.environ.get(KEY_ENV)
    if not key:
        raise MissingKeyError(
            f"no customer pseudonymisation key: set ${KEY_ENV} or the Airflow connection "
            "'forecasting_customer_key' (its password); customer ids are never stored raw"
        )
    raw = key.encode()
    if len(raw) < _MIN_KEY_BYTES:
        raise MissingKeyError(
            f"the customer pseudonymisation key needs at least {_MIN_KEY_BYTES} bytes"
        )
    return raw


def pseudonymise(
    ids: Iterable[object] | pd.Series, key: bytes, context: str = "customer"
) -> pd.Series:
    """Keyed pseudonyms of ids (``None``/NaN stay missing).

    Args:
        ids: Raw identifiers (strings or numbers; numbers are formatted without ``.0``).
        key: From :func:`customer_key`.
        context: Domain separation (``customer``, ``order``): the same raw value gives
            different pseudonyms in different contexts.

    Returns:
        A string series aligned with ``ids``.
    """
    series = pd.Series(ids) if not isinstance(ids, pd.Series) else ids
    uniques = pd.unique(series.dropna())
    prefix = f"{context}:".encode()

    def one(value: object) -> str:
        text = str(value)
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        digest = hmac.new(key, prefix + text.strip().encode(), hashlib.sha256).hexdigest()
        return digest[:PSEUDONYM_LENGTH]

    mapping = {u: one(u) for u in uniques}
    out = series.map(mapping)
    return out.where(series.notna(), np.nan).astype(object)


def write_pseudonym_map(engine: Engine, table: str = "customer_pseudonyms") -> int:
    """For the shop, which holds the key: (re)write ``table`` in its own database with
    ``customer_id, customer_pseudonym`` for every customer in ``orders``, so marketing's
    tables join back to customers with plain SQL. Never run this in the pipeline.

    Returns:
        Rows written.
    """
    from forecasting.db import read_frame, safe_identifier

    key = customer_key()
    name = safe_identifier(table)
    ids = read_frame(engine, "customers/select_customer_ids", {})
    frame = pd.DataFrame(
        {
            "customer_id": ids["customer_id"].astype(str),
            "customer_pseudonym": pseudonymise(ids["customer_id"], key, "customer"),
        }
    )
    frame.to_sql(name, engine, if_exists="replace", index=False, chunksize=10_000)
    return len(frame)
