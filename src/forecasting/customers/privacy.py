"""Customer pseudonyms: keyed hashes, so no raw customer id leaves extraction.

A customer id becomes ``HMAC-SHA256(key, "customer:" + id)``, hex-encoded, truncated to 32
characters (128 bits). The key lives with the shop and the pipeline's secrets (an Airflow
connection or variable, or ``FORECASTING_CUSTOMER_KEY``), never in code; without it the
pseudonyms cannot be reversed or recomputed, with it the shop joins forecasts back to its
customers (``forecasting customers map`` writes the mapping into the shop's own database).
A missing key is an error, never a default.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterable
from datetime import timedelta

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine
from upath import UPath

from forecasting.errors import NonRetryableError
from forecasting.storage import (
    SUCCESS,
    Storage,
    attempt_of,
    is_stale_temp,
    read_parquet,
    seal,
    write_bytes_atomic,
    write_parquet,
)

log = logging.getLogger(__name__)

__all__ = [
    "KEY_ENV",
    "PSEUDONYM_LENGTH",
    "MissingKeyError",
    "customer_key",
    "forget_stored",
    "forgotten_pseudonyms",
    "optouts_fingerprint",
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


# --------------------------------------------------------------------------- forgetting
#: Stage folders of the customer pipeline (``runs/ds=<day>/<stage>``): the only stored
#: partitions that hold customer pseudonyms (demand is aggregated without customers).
CUSTOMER_STAGE_PREFIX = "customers_"
#: What a forgotten pseudonym becomes in stored text (validation reports' sample rows).
FORGOTTEN = "forgotten"


def forgotten_pseudonyms(engine: Engine, key: bytes) -> list[str]:
    """The pseudonyms of every customer in the shop's ``customer_optouts``, sorted.

    Computed when needed from the opt-out table and the key, never stored.
    """
    from forecasting.db import read_frame

    optouts = read_frame(engine, "customers/select_optouts", {})
    return sorted(pseudonymise(optouts["customer_id"], key, "customer").dropna())


def optouts_fingerprint(pseudonyms: Iterable[str]) -> str:
    """One hash of the whole opt-out set (not of anyone in it): a model version is tagged
    with the set it was trained without, so a new opt-out is noticed without storing who."""
    text = "\n".join(sorted(pseudonyms))
    return hashlib.sha256(f"optouts:{text}".encode()).hexdigest()[:16]


#: Where the last sweep's opt-out set is recorded (one hash of it, never who is in it).
SWEEP_MARKER = ("store", "customers", "forgotten.json")
#: A temporary file of an interrupted write this old has no live writer.
_STALE_TEMP = timedelta(minutes=10)


def forget_stored(storage: Storage, pseudonyms: Iterable[str]) -> dict[str, int]:
    """Remove forgotten customers from every stored customer partition, of every date.

    Every file below ``runs/ds=*/customers_*`` -- committed attempts, superseded ones and
    leftovers alike -- is checked: parquet files lose the rows whose ``customer`` is
    forgotten (their order pseudonyms go with them), text files (JSON reports) have the
    pseudonyms replaced by ``"forgotten"``, the attempt's ``_SUCCESS`` is rewritten with
    the new sizes, and temporary files of interrupted writes are deleted. Files without a
    forgotten customer are left untouched.

    A sweep records the opt-out set it forgot (:func:`optouts_fingerprint`, in
    ``store/customers/forgotten.json``); while the set is unchanged the next runs skip the
    sweep: every partition written since excludes those customers already.

    Returns:
        ``files_checked``, ``files_rewritten``, ``rows_removed`` and ``skipped`` (1 when
        the set was already swept).
    """
    forgotten = set(pseudonyms)
    counts = {"files_checked": 0, "files_rewritten": 0, "rows_removed": 0, "skipped": 0}
    marker = storage.root.joinpath(*SWEEP_MARKER)
    fingerprint = optouts_fingerprint(forgotten)
    if marker.exists() and json.loads(marker.read_text()).get("optouts") == fingerprint:
        counts["skipped"] = 1
        return counts
    runs = storage.root / "runs"
    touched: set[str] = set()
    for path in _customer_files(runs) if forgotten and runs.exists() else []:
        counts["files_checked"] += 1
        with contextlib.suppress(FileNotFoundError):  # a superseded attempt cleaned up
            if ".tmp-" in path.name:
                if is_stale_temp(path, _STALE_TEMP):
                    path.unlink(missing_ok=True)
                continue
            if path.suffix == ".parquet":
                removed = _forget_rows(path, forgotten)
                counts["rows_removed"] += removed
                changed = removed > 0
            elif path.name != SUCCESS and path.suffix in (".json", ".csv", ".txt", ".html"):
                changed = _redact_text(path, forgotten)
            else:
                continue
            if changed:
                counts["files_rewritten"] += 1
                folder = attempt_of(path)
                if folder is not None:
                    touched.add(str(folder))
    for uri in touched:
        sealed = storage.path(uri)
        with contextlib.suppress(FileNotFoundError):
            if (sealed / SUCCESS).exists():  # a leftover that never finished stays unsealed
                seal(sealed)
    write_bytes_atomic(marker, json.dumps({"optouts": fingerprint}).encode())
    if counts["files_rewritten"]:
        log.info(
            "forgot %d customers in stored partitions: %d of %d files rewritten, %d rows removed",
            len(forgotten),
            counts["files_rewritten"],
            counts["files_checked"],
            counts["rows_removed"],
        )
    return counts


def _customer_files(runs: UPath) -> list[UPath]:
    """Every file below ``runs/ds=*/customers_*``."""
    files: list[UPath] = []
    for day in sorted(runs.iterdir(), key=str):
        for stage in sorted(day.iterdir(), key=str) if day.is_dir() else []:
            if stage.name.startswith(CUSTOMER_STAGE_PREFIX) and stage.is_dir():
                files += sorted((p for p in stage.rglob("*") if p.is_file()), key=str)
    return files


def _forget_rows(path: UPath, forgotten: set[str]) -> int:
    import pyarrow.parquet as pq

    with path.open("rb") as handle:
        if "customer" not in pq.read_schema(handle).names:
            return 0  # nothing personal in this file
    customers = read_parquet(path, columns=["customer"])
    if not customers["customer"].isin(forgotten).any():
        return 0
    frame = read_parquet(path)
    keep = ~frame["customer"].isin(forgotten)
    write_parquet(frame.loc[keep].reset_index(drop=True), path)
    return int((~keep).sum())


def _redact_text(path: UPath, forgotten: set[str]) -> bool:
    text = path.read_bytes().decode("utf-8", errors="replace")
    hits = [p for p in forgotten if p in text]
    for pseudonym in hits:
        text = text.replace(pseudonym, FORGOTTEN)
    if hits:
        write_bytes_atomic(path, text.encode())
    return bool(hits)
