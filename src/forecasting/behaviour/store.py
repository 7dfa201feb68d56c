"""The incremental event store: the source's web events as daily aggregates, on storage.

Modelled on the demand store (:mod:`forecasting.extraction.store`). Raw events are never
stored: each shop day is read (:func:`~forecasting.behaviour.source.read_web_events`,
pseudonymised), checked (:mod:`forecasting.behaviour.checks`), cleaned
(:func:`~forecasting.behaviour.events.clean_events`) and aggregated into two datasets, one
parquet file per calendar month each::

    store/events/<identity>/daily/month=2024-06.parquet     DAILY_COLUMNS (per SKU, location, day)
    store/events/<identity>/searches/month=2024-06.parquet  SEARCH_COLUMNS (per day and query)
    store/events/<identity>/_state.json                     days covered, per-month and per-day counts

Behaviour features need weeks, not years: the store keeps the last ``days``
(``PipelineConfig.behaviour_days``, 120 by default) ending with the run's day; a first sync
reads only those, and months wholly before them are dropped. Each later sync reads the days
after the last stored day plus ``lookback_days`` before it (late events), one day at a
time, so memory is bounded by one day's events. A month's two files are replaced whole and
atomically, the state last: a sync killed or stopped by a failed check leaves the previous
state (and nothing of the failing day), and the next sync reads the same days again.
``<identity>`` hashes the source database (without its password), both timezones and the
store format. ``full_refresh`` rebuilds from scratch.

The stored aggregates hold counts only (distinct sessions per SKU and day, searching
sessions per query): no session or customer pseudonym is written, so the key that made the
pseudonyms does not matter to them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy.engine import Engine
from upath import UPath

from forecasting.behaviour.checks import BATCH_ROWS, CHECKED_COLUMNS, check_events
from forecasting.behaviour.events import (
    DAILY_COLUMNS,
    DAILY_COUNTS,
    SEARCH_COLUMNS,
    EventCleaning,
    clean_events,
    daily_behaviour,
    empty_daily,
    empty_searches,
    search_sessions,
)
from forecasting.behaviour.search import QueryMatcher
from forecasting.behaviour.source import (
    DEFAULT_READER,
    EventReader,
    read_web_events,
    resolve_reader,
)
from forecasting.config import DataChecks
from forecasting.db import redact_url
from forecasting.extraction.window import month_chunks
from forecasting.storage import read_json, remove_leftovers, write_json, write_parquet

__all__ = ["EVENT_STORE_FORMAT", "EventStore", "EventSyncResult"]

log = logging.getLogger(__name__)

#: Bump when the extraction or aggregation rules change, so old stores are rebuilt.
EVENT_STORE_FORMAT = 1
_DAILY_SCHEMA = pa.schema(
    [
        ("sku", pa.string()),
        ("location_id", pa.string()),
        ("ds", pa.timestamp("ns")),
        *[(c, pa.int64()) for c in DAILY_COUNTS],
    ]
)
_SEARCH_SCHEMA = pa.schema(
    [
        ("ds", pa.timestamp("ns")),
        ("query", pa.string()),
        ("searches", pa.int64()),
        ("sessions", pa.int64()),
        ("converted_sessions", pa.int64()),
    ]
)
_DATASETS: dict[str, tuple[tuple[str, ...], pa.Schema, list[str], Callable[[], pd.DataFrame]]] = {
    "daily": (DAILY_COLUMNS, _DAILY_SCHEMA, ["sku", "location_id", "ds"], empty_daily),
    "searches": (SEARCH_COLUMNS, _SEARCH_SCHEMA, ["ds", "query"], empty_searches),
}


@dataclass(frozen=True)
class EventSyncResult:
    """What one :meth:`EventStore.sync` did.

    Attributes:
        store_uri: The store folder.
        first_day: First day the store covers after the sync.
        last_day: Last day it covers.
        extracted: ``[first, last]`` day ranges read from the source in this sync.
        full: Whether the store was (re)built from scratch.
        rows: Raw events read from the source.
        events: Events kept after cleaning.
        duplicate_events: Repeated event ids dropped (one of each kept).
        bot_sessions: Session-days over the bot threshold.
        bot_events: Their events (dropped).
        daily_rows: Rows (SKU x location x day) of the extracted days.
        search_rows: Rows (day x query) of the extracted days.
        seconds: Wall seconds of the whole sync (reading, checks, aggregation, files).
        read_seconds: Of them, reading the source.
        reader: The reader used (``connectorx`` or ``sqlalchemy``).
        months_written: Month files replaced (per dataset).
        months_dropped: Months dropped as older than the days kept.
        peak_rss_mb: Peak resident memory of the sync above the process at its start (MiB).
    """

    store_uri: str
    first_day: str
    last_day: str
    extracted: list[list[str]]
    full: bool
    rows: int
    events: int
    duplicate_events: int
    bot_sessions: int
    bot_events: int
    daily_rows: int
    search_rows: int
    seconds: float
    read_seconds: float
    reader: str
    months_written: int
    months_dropped: list[str] = field(default_factory=list)
    peak_rss_mb: float | None = None

    @property
    def rows_per_second(self) -> float:
        """Source rows synced per second (the whole sync)."""
        return self.rows / self.seconds if self.seconds > 0 else float("nan")

    @property
    def cleaning(self) -> EventCleaning:
        """The cleaning counts of the extracted days."""
        return EventCleaning(self.rows, self.duplicate_events, self.bot_sessions, self.bot_events)

    def days(self) -> list[date]:
        """Every day read from the source in this sync, in order."""
        out: list[date] = []
        for first, last in self.extracted:
            day, end = date.fromisoformat(first), date.fromisoformat(last)
            while day <= end:
                out.append(day)
                day += timedelta(days=1)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with ``rows_per_second`` (the whole sync) and
        ``read_rows_per_second`` (reading the source alone)."""
        rate = self.rows_per_second
        read = self.rows / self.read_seconds if self.read_seconds > 0 else None
        return {
            **asdict(self),
            "rows_per_second": round(rate, 1) if rate == rate else None,
            "read_rows_per_second": None if read is None else round(read, 1),
        }


def store_identity(source_url: str, shop_tz: str, source_tz: str) -> str:
    """Folder name of the event store for a source database and timezones."""
    payload = json.dumps(
        {
            "format": EVENT_STORE_FORMAT,
            "source": redact_url(source_url),
            "shop_timezone": shop_tz,
            "source_timezone": source_tz,
        },
        sort_keys=True,
    )
    return f"v{EVENT_STORE_FORMAT}-{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


class EventStore:
    """Month files of daily behaviour and searches below ``root`` (see module docstring)."""

    def __init__(self, root: UPath) -> None:
        self.root = root

    @classmethod
    def for_source(
        cls, storage_root: UPath, source_url: str, shop_tz: str, source_tz: str
    ) -> EventStore:
        """The event store of one source database below the storage root."""
        ident = store_identity(source_url, shop_tz, source_tz)
        return cls(storage_root / "store" / "events" / ident)

    def _path(self, dataset: str, month: str) -> UPath:
        return self.root / dataset / f"month={month}.parquet"

    def state(self) -> dict[str, Any] | None:
        """The stored state (days covered, months, per-day counts), or ``None`` when empty."""
        path = self.root / "_state.json"
        return read_json(path) if path.exists() else None

    def coverage(self) -> tuple[date, date] | None:
        """First and last day the store covers, or ``None`` for an empty store."""
        state = self.state()
        if state is None:
            return None
        return date.fromisoformat(state["first_day"]), date.fromisoformat(state["last_day"])

    def cleaning(self, first: date, last: date) -> EventCleaning:
        """The cleaning counts of the stored days ``first`` .. ``last`` (summed)."""
        total = EventCleaning()
        for day, counts in ((self.state() or {}).get("days") or {}).items():
            if first.isoformat() <= day <= last.isoformat():
                total = total + EventCleaning(**counts)
        return total

    def _ranges(
        self, first_needed: date, last_day: date, lookback_days: int, full_refresh: bool
    ) -> tuple[list[tuple[date, date]], bool]:
        state = self.state()
        if full_refresh or state is None or state.get("format") != EVENT_STORE_FORMAT:
            return [(first_needed, last_day)], True
        have_first = date.fromisoformat(state["first_day"])
        have_last = date.fromisoformat(state["last_day"])
        if have_last + timedelta(days=1) < first_needed or last_day < have_first:
            return [(first_needed, last_day)], True  # a gap: start over
        ranges = []
        if first_needed < have_first:
            ranges.append((first_needed, have_first - timedelta(days=1)))
        # New days, plus the ``lookback_days`` before them (late events).
        incremental = min(have_last, last_day) + timedelta(days=1 - lookback_days)
        incremental = max(incremental, first_needed, have_first)
        if incremental <= last_day:
            ranges.append((incremental, last_day))
        return ranges, False

    def sync(
        self,
        engine: Engine,
        last_day: date,
        *,
        days: int,
        lookback_days: int,
        shop_tz: str,
        source_tz: str,
        key: bytes,
        catalogue: pd.DataFrame,
        checks: DataChecks,
        full_refresh: bool = False,
        reader: EventReader = DEFAULT_READER,
    ) -> EventSyncResult:
        """Bring the store up to ``last_day``, keeping the last ``days`` days.

        Args:
            engine: Source database.
            last_day: The run's day.
            days: Days kept, ending with ``last_day`` (``PipelineConfig.behaviour_days``).
            lookback_days: Days before the stored last day read again (late events).
            shop_tz: Shop timezone.
            source_tz: Timezone of the source's timestamps.
            key: Pseudonymisation key of this sync
                (:func:`~forecasting.behaviour.source.sync_key`).
            catalogue: The run's products (``sku`` and their text): the SKU check's
                catalogue and the search matcher's.
            checks: Thresholds (``max_unknown_event_sku_share``).
            full_refresh: Ignore what is stored and read every kept day again.
            reader: See :func:`~forecasting.behaviour.source.resolve_reader`.

        Returns:
            What was read and kept, with the read rate, the reader and peak memory.

        Raises:
            ValidationFailedError: A day's events broke a rule (the sync stops before
                anything of that day is written; the state is left as it was).
        """
        from forecasting.profiling import PeakMemory

        started = time.perf_counter()
        with PeakMemory() as peak:
            result = self._sync(
                engine,
                last_day,
                days=days,
                lookback_days=lookback_days,
                shop_tz=shop_tz,
                source_tz=source_tz,
                key=key,
                catalogue=catalogue,
                checks=checks,
                full_refresh=full_refresh,
                reader=reader,
            )
        seconds = time.perf_counter() - started
        out = EventSyncResult(
            **{**asdict(result), "seconds": round(seconds, 3), "peak_rss_mb": round(peak.peak_mb)}
        )
        log.info(
            "event store synced: %s (%d events read, %d kept, %d duplicates, %d bot events; "
            "%.1fs, %.0f rows/s, %s, peak +%d MiB)",
            out.extracted,
            out.rows,
            out.events,
            out.duplicate_events,
            out.bot_events,
            seconds,
            out.rows_per_second,
            out.reader,
            out.peak_rss_mb,
        )
        return out

    def _sync(
        self,
        engine: Engine,
        last_day: date,
        *,
        days: int,
        lookback_days: int,
        shop_tz: str,
        source_tz: str,
        key: bytes,
        catalogue: pd.DataFrame,
        checks: DataChecks,
        full_refresh: bool,
        reader: EventReader,
    ) -> EventSyncResult:
        if self.root.exists():
            remove_leftovers(self.root)  # temporary files of a sync that was killed
        first_needed = last_day - timedelta(days=days - 1)
        ranges, full = self._ranges(first_needed, last_day, lookback_days, full_refresh)
        state = None if full else self.state()
        months: dict[str, dict[str, int]] = dict((state or {}).get("months", {}))
        day_counts: dict[str, dict[str, int]] = dict((state or {}).get("days", {}))
        matcher = QueryMatcher(catalogue)
        known = pd.Index(catalogue["sku"].astype(str).unique())
        chosen = resolve_reader(engine, reader)
        totals = EventCleaning()
        kept = daily_rows = search_rows = written = 0
        read_seconds = 0.0
        for first, last in ranges:
            for chunk_first, chunk_last in month_chunks(first, last):
                daily_parts, search_parts = [], []
                frames = read_web_events(
                    engine, chunk_first, chunk_last, shop_tz, source_tz, key, reader=chosen
                )
                # Raw events wait for their check in batches of days (one GX validation
                # per ~BATCH_ROWS events); nothing of the month is written before every
                # batch passed, so memory holds one batch (raw and clean) and the month's
                # aggregates.
                pending: list[pd.DataFrame] = []  # raw events awaiting their check
                cleaned: list[pd.DataFrame] = []  # clean events awaiting aggregation
                pending_first = day = chunk_first
                while True:
                    tick = time.perf_counter()
                    raw = next(frames, None)
                    read_seconds += time.perf_counter() - tick
                    done = raw is None
                    if raw is not None:
                        if len(raw):
                            pending.append(raw.loc[:, list(CHECKED_COLUMNS)])
                        clean, counts = clean_events(raw)
                        del raw
                        if len(clean):
                            cleaned.append(clean)
                        day_counts[day.isoformat()] = counts.to_dict()
                        totals = totals + counts
                        kept += len(clean)
                    # A batch (about BATCH_ROWS events, or the month's end) is checked, then
                    # aggregated in one go: per-call costs are paid per batch, not per day.
                    batch_full = sum(len(p) for p in pending) >= BATCH_ROWS
                    if pending and (done or batch_full):
                        check_events(
                            pd.concat(pending, ignore_index=True),
                            pending_first,
                            chunk_last if done else day,
                            known,
                            checks,
                        )
                        pending = []
                    if cleaned and (done or batch_full):
                        batch = pd.concat(cleaned, ignore_index=True)
                        cleaned = []
                        daily_parts.append(daily_behaviour(batch, matcher))
                        search_parts.append(search_sessions(batch))
                        del batch
                    if done:
                        break
                    day += timedelta(days=1)
                    if not pending:
                        pending_first = day
                month = chunk_first.strftime("%Y-%m")
                daily = _concat(daily_parts, "daily")
                searches = _concat(search_parts, "searches")
                daily_rows += len(daily)
                search_rows += len(searches)
                sizes = {}
                for name, fresh in (("daily", daily), ("searches", searches)):
                    merged = self._merge(name, month, fresh, chunk_first, chunk_last, full)
                    _, schema, _, _ = _DATASETS[name]
                    write_parquet(merged, self._path(name, month), schema=schema)
                    sizes[f"{name}_rows"] = len(merged)
                months[month] = sizes
                written += 1
                log.info(
                    "event store: %s..%s -> %d daily rows, %d search rows",
                    chunk_first,
                    chunk_last,
                    len(daily),
                    len(searches),
                )
        first_day = first_needed
        last_seen = last_day
        if state is not None:
            last_seen = max(last_day, date.fromisoformat(state["last_day"]))
        dropped = sorted(m for m in months if m < first_day.strftime("%Y-%m"))
        for month in dropped:
            del months[month]
        day_counts = {d: c for d, c in day_counts.items() if first_day.isoformat() <= d}
        self._write_state(first_day, last_seen, months, day_counts)
        for month in dropped:  # after the state: a kill in between leaves unread files
            for name in _DATASETS:
                self._path(name, month).unlink(missing_ok=True)
        return EventSyncResult(
            store_uri=str(self.root),
            first_day=first_day.isoformat(),
            last_day=last_seen.isoformat(),
            extracted=[[a.isoformat(), b.isoformat()] for a, b in ranges],
            full=full,
            rows=totals.rows,
            events=kept,
            duplicate_events=totals.duplicate_events,
            bot_sessions=totals.bot_sessions,
            bot_events=totals.bot_events,
            daily_rows=daily_rows,
            search_rows=search_rows,
            seconds=0.0,
            read_seconds=round(read_seconds, 3),
            reader=chosen,
            months_written=written,
            months_dropped=dropped,
        )

    def _write_state(
        self,
        first_day: date,
        last_day: date,
        months: dict[str, dict[str, int]],
        day_counts: dict[str, dict[str, int]],
    ) -> None:
        """Record the days covered and the counts (written after the month files)."""
        write_json(
            self.root / "_state.json",
            {
                "format": EVENT_STORE_FORMAT,
                "first_day": first_day.isoformat(),
                "last_day": last_day.isoformat(),
                "months": dict(sorted(months.items())),
                "days": dict(sorted(day_counts.items())),
            },
        )

    def _merge(
        self,
        dataset: str,
        month: str,
        fresh: pd.DataFrame,
        first: date,
        last: date,
        replace_all: bool,
    ) -> pd.DataFrame:
        path = self._path(dataset, month)
        _, _, keys, _ = _DATASETS[dataset]
        if not replace_all and path.exists():
            old = _read(path)
            keep = (old["ds"] < pd.Timestamp(first)) | (old["ds"] > pd.Timestamp(last))
            fresh = pd.concat([old.loc[keep], fresh], ignore_index=True)
        return fresh.sort_values(keys, ignore_index=True)

    def _read(
        self, dataset: str, first: date, last: date, extra: list[Any] | None = None
    ) -> pd.DataFrame:
        columns, _, _, empty = _DATASETS[dataset]
        span = self.coverage()
        if span is None:
            return empty()
        first, last = max(first, span[0]), min(last, span[1])
        if first > last:
            return empty()
        filters: list[Any] = [
            ("ds", ">=", pd.Timestamp(first)),
            ("ds", "<=", pd.Timestamp(last)),
            *(extra or []),
        ]
        parts = []
        for chunk_first, _ in month_chunks(first, last):
            path = self._path(dataset, chunk_first.strftime("%Y-%m"))
            if path.exists():
                parts.append(_read(path, filters=filters))
        parts = [p for p in parts if len(p)]
        if not parts:
            return empty()
        frame = pd.concat(parts, ignore_index=True)
        frame["ds"] = pd.to_datetime(frame["ds"]).astype("datetime64[ns]")
        return frame.loc[:, list(columns)]

    def read_daily(self, first: date, last: date, skus: set[str] | None = None) -> pd.DataFrame:
        """Daily behaviour of days ``first`` .. ``last`` (optionally only some SKUs).

        Only days the store covers (:meth:`coverage`) are returned; a day without a row for
        a SKU and location had no event for it.

        Returns:
            :data:`~forecasting.behaviour.events.DAILY_COLUMNS`, sorted by SKU, location
            and day within each month.
        """
        extra: list[Any] = []
        if skus is not None:
            if not skus:
                return empty_daily()
            extra.append(("sku", "in", sorted(skus)))
        return self._read("daily", first, last, extra)

    def read_searches(self, first: date, last: date) -> pd.DataFrame:
        """Searches per day and normalised query of days ``first`` .. ``last`` (covered days
        only).

        Returns:
            :data:`~forecasting.behaviour.events.SEARCH_COLUMNS`, sorted by day and query.
        """
        return self._read("searches", first, last)


def _concat(parts: list[pd.DataFrame], dataset: str) -> pd.DataFrame:
    columns, _, keys, empty = _DATASETS[dataset]
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty()
    frame = pd.concat(parts, ignore_index=True)
    frame["ds"] = pd.to_datetime(frame["ds"]).astype("datetime64[ns]")
    return frame.loc[:, list(columns)].sort_values(keys, ignore_index=True)


def _read(path: UPath, filters: list[Any] | None = None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if getattr(path, "protocol", "") in ("", "file", "local"):
        table = pq.read_table(path.path, filters=filters)
    else:
        with path.open("rb") as handle:
            table = pq.read_table(handle, filters=filters)
    return table.to_pandas()
