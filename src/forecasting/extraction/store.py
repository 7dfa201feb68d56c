"""The incremental demand store: the source's daily demand, cached on shared storage.

Reading three years of orders from the shop's database every day is what made extraction
the first cost to grow with the catalogue. The store keeps daily demand per SKU, location
and shop day as one parquet file per calendar month::

    store/demand/<identity>/month=2024-06.parquet    sku, location_id, ds, y, line_count, revenue
    store/demand/<identity>/_state.json              days covered, per-month counts

Each run extracts only the days after the last stored day, plus ``lookback_days`` before
it (late corrections to recent orders are picked up), streamed month by month with a
server-side cursor so memory stays bounded by one month. Months are replaced whole and
atomically, the state last: a run killed half-way leaves the previous state, and the next
run extracts the same days again. ``<identity>`` hashes the source database (without its
password), both timezones and the store format: pointing the pipeline at another database
starts a new store rather than mixing two shops. ``full_refresh`` rebuilds from scratch
(for corrections older than the look-back).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.engine import Engine
from upath import UPath

from forecasting.db import redact_url
from forecasting.extraction.source import read_demand
from forecasting.extraction.window import month_chunks
from forecasting.storage import read_json, remove_leftovers, write_json, write_parquet

__all__ = ["STORE_COLUMNS", "DemandStore", "SyncResult"]

log = logging.getLogger(__name__)

#: Bump when the extraction rules change, so stores written under old rules are rebuilt.
STORE_FORMAT = 4
#: Columns of every month file.
STORE_COLUMNS = ("sku", "location_id", "ds", "y", "line_count", "revenue")
_SCHEMA = pa.schema(
    [
        ("sku", pa.string()),
        ("location_id", pa.string()),
        ("ds", pa.timestamp("ns")),
        ("y", pa.float64()),
        ("line_count", pa.int64()),
        ("revenue", pa.float64()),
    ]
)
_KEYS = ["sku", "location_id", "ds"]


@dataclass(frozen=True)
class SyncResult:
    """What one :meth:`DemandStore.sync` did.

    Attributes:
        store_uri: The store folder.
        first_day: First day the store covers after the sync.
        last_day: Last day it covers.
        extracted: ``[first, last]`` day ranges read from the source in this sync.
        full: Whether the store was (re)built from scratch.
        rows: Rows (SKU x location x day) read from the source.
        lines: Order lines behind them.
        seconds: Wall seconds reading the source (the database part only).
        months_written: Month files replaced.
        duplicate_lines: Exact duplicate order lines in the extracted days, counted once.
    """

    store_uri: str
    first_day: str
    last_day: str
    extracted: list[list[str]]
    full: bool
    rows: int
    lines: int
    seconds: float
    months_written: int
    duplicate_lines: int = 0

    @property
    def rows_per_second(self) -> float:
        """Source rows read per second."""
        return self.rows / self.seconds if self.seconds > 0 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "rows_per_second": round(self.rows_per_second, 1)}


def store_identity(source_url: str, shop_tz: str, source_tz: str) -> str:
    """Folder name of the store for a source database and timezones."""
    payload = json.dumps(
        {
            "format": STORE_FORMAT,
            "source": redact_url(source_url),
            "shop_timezone": shop_tz,
            "source_timezone": source_tz,
        },
        sort_keys=True,
    )
    return f"v{STORE_FORMAT}-{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


class DemandStore:
    """Month files of daily demand below ``root`` (see module docstring)."""

    def __init__(self, root: UPath) -> None:
        self.root = root

    @classmethod
    def for_source(
        cls, storage_root: UPath, source_url: str, shop_tz: str, source_tz: str
    ) -> DemandStore:
        """The store of one source database below the storage root."""
        ident = store_identity(source_url, shop_tz, source_tz)
        return cls(storage_root / "store" / "demand" / ident)

    def _month_path(self, month: str) -> UPath:
        return self.root / f"month={month}.parquet"

    def state(self) -> dict[str, Any] | None:
        """The stored state (days covered, months), or ``None`` for an empty store."""
        path = self.root / "_state.json"
        return read_json(path) if path.exists() else None

    def _ranges(
        self, window_start: date, last_day: date, lookback_days: int, full_refresh: bool
    ) -> tuple[list[tuple[date, date]], bool]:
        state = self.state()
        if full_refresh or state is None:
            return [(window_start, last_day)], True
        have_first = date.fromisoformat(state["first_day"])
        have_last = date.fromisoformat(state["last_day"])
        if have_last + timedelta(days=1) < window_start:  # a gap: start over
            return [(window_start, last_day)], True
        ranges = []
        if window_start < have_first:
            ranges.append((window_start, have_first - timedelta(days=1)))
        # New days, plus the ``lookback_days`` before them (late corrections).
        incremental = min(have_last, last_day) + timedelta(days=1 - lookback_days)
        incremental = max(incremental, window_start, have_first)
        if incremental <= last_day:
            ranges.append((incremental, last_day))
        return ranges, False

    def sync(
        self,
        engine: Engine,
        window_start: date,
        last_day: date,
        *,
        lookback_days: int,
        shop_tz: str,
        source_tz: str,
        full_refresh: bool = False,
    ) -> SyncResult:
        """Bring the store up to ``last_day`` (see module docstring).

        Args:
            engine: Source database.
            window_start: First day the run needs.
            last_day: The run's day.
            lookback_days: Days before the stored last day extracted again.
            shop_tz: Shop timezone.
            source_tz: Timezone of the source's timestamps.
            full_refresh: Ignore what is stored and extract the whole window.

        Returns:
            What was extracted, with row counts and the source read rate.
        """
        if self.root.exists():
            remove_leftovers(self.root)  # temporary files of a sync that was killed
        ranges, full = self._ranges(window_start, last_day, lookback_days, full_refresh)
        state = None if full else self.state()
        months: dict[str, dict[str, float]] = dict((state or {}).get("months", {}))
        rows = lines = written = duplicates = 0
        seconds = 0.0
        for first, last in ranges:
            for chunk_first, chunk_last in month_chunks(first, last):
                started = time.perf_counter()
                chunk = read_demand(engine, chunk_first, chunk_last, shop_tz, source_tz)
                seconds += time.perf_counter() - started
                duplicates += chunk.duplicate_lines
                fresh = _combine([chunk.demand])
                rows += len(fresh)
                lines += int(fresh["line_count"].sum())
                month = chunk_first.strftime("%Y-%m")
                merged = self._merge(month, fresh, chunk_first, chunk_last, replace_all=full)
                write_parquet(merged, self._month_path(month), schema=_SCHEMA)
                months[month] = {"rows": len(merged), "units": float(merged["y"].sum())}
                written += 1
                log.info(
                    "store: %s..%s -> %d rows (%d lines)",
                    chunk_first,
                    chunk_last,
                    len(fresh),
                    int(fresh["line_count"].sum()),
                )
        first_day = window_start if full else min(window_start, _day(state, "first_day"))
        last_seen = last_day if full else max(last_day, _day(state, "last_day"))
        self._write_state(first_day, last_seen, months)
        result = SyncResult(
            store_uri=str(self.root),
            first_day=first_day.isoformat(),
            last_day=last_seen.isoformat(),
            extracted=[[a.isoformat(), b.isoformat()] for a, b in ranges],
            full=full,
            rows=rows,
            lines=lines,
            seconds=round(seconds, 3),
            months_written=written,
            duplicate_lines=duplicates,
        )
        log.info(
            "store synced: %s (%d rows in %.1fs, %.0f rows/s)",
            result.extracted,
            rows,
            seconds,
            result.rows_per_second,
        )
        return result

    def _write_state(
        self, first_day: date, last_day: date, months: dict[str, dict[str, float]]
    ) -> None:
        """Record the days covered and the per-month counts (written after the months)."""
        write_json(
            self.root / "_state.json",
            {
                "format": STORE_FORMAT,
                "first_day": first_day.isoformat(),
                "last_day": last_day.isoformat(),
                "months": dict(sorted(months.items())),
            },
        )

    def _merge(
        self, month: str, fresh: pd.DataFrame, first: date, last: date, replace_all: bool
    ) -> pd.DataFrame:
        path = self._month_path(month)
        if not replace_all and path.exists():
            old = _read(path)
            keep = (old["ds"] < pd.Timestamp(first)) | (old["ds"] > pd.Timestamp(last))
            fresh = pd.concat([old.loc[keep], fresh], ignore_index=True)
        return fresh.sort_values(_KEYS, ignore_index=True)

    def read(self, first: date, last: date, skus: set[str] | None = None) -> pd.DataFrame:
        """Daily demand of days ``first`` .. ``last`` (optionally only some SKUs), one row
        per SKU, location and day, month by month (sorted by SKU, location and day within
        a month).

        Raises:
            ValueError: If the store does not cover the days.
        """
        state = self.state()
        if state is None or first < _day(state, "first_day") or last > _day(state, "last_day"):
            covered = "nothing" if state is None else f"{state['first_day']}..{state['last_day']}"
            raise ValueError(f"the demand store covers {covered}, not {first}..{last}")
        filters: list[Any] = [
            ("ds", ">=", pd.Timestamp(first)),
            ("ds", "<=", pd.Timestamp(last)),
        ]
        if skus is not None:
            if not skus:  # a shard without products (an empty list cannot be a filter)
                return _combine([])
            filters.append(("sku", "in", sorted(skus)))
        parts = []
        for chunk_first, _ in month_chunks(first, last):
            path = self._month_path(chunk_first.strftime("%Y-%m"))
            if path.exists():
                parts.append(_read(path, filters=filters))
        if not parts:
            return _combine([])
        # Each month file holds one row per key, sorted (written by _combine), and a day
        # lives in one month's file: the months are concatenated as they are, without a
        # duplicate check or a sort of millions of rows.
        frame = pd.concat(parts, ignore_index=True)
        frame["ds"] = pd.to_datetime(frame["ds"]).astype("datetime64[ns]")
        return frame.loc[:, list(STORE_COLUMNS)]


def _day(state: dict[str, Any] | None, key: str) -> date:
    assert state is not None
    return date.fromisoformat(state[key])


def _read(path: UPath, filters: list[Any] | None = None) -> pd.DataFrame:
    if getattr(path, "protocol", "") in ("", "file", "local"):
        table = pq.read_table(path.path, filters=filters)
    else:
        with path.open("rb") as handle:
            table = pq.read_table(handle, filters=filters)
    return table.to_pandas()


def _combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per SKU, location and day (a day split by a timezone change is summed)."""
    if not parts:
        return pd.DataFrame(
            {
                "sku": pd.Series(dtype=object),
                "location_id": pd.Series(dtype=object),
                "ds": pd.Series(dtype="datetime64[ns]"),
                "y": pd.Series(dtype=float),
                "line_count": pd.Series(dtype="int64"),
                "revenue": pd.Series(dtype=float),
            }
        )
    frame = pd.concat(parts, ignore_index=True)
    if frame.duplicated(_KEYS).any():
        sums = ["y", "line_count", "revenue"]
        frame = frame.groupby(_KEYS, as_index=False, sort=False)[sums].sum()
    frame["ds"] = pd.to_datetime(frame["ds"]).astype("datetime64[ns]")
    return frame.loc[:, list(STORE_COLUMNS)].sort_values(_KEYS, ignore_index=True)
