"""Which days a run covers, and how the shop's calendar days map onto source timestamps.

A run's day is the last *complete* calendar day in the shop's timezone. Order timestamps
in the source are naive values in the source's timezone; a shop day ``d`` is the source
time range ``[midnight of d, midnight of d + 1)`` in the shop's timezone, converted. Where
the two timezones' UTC offsets differ (and across daylight-saving changes) the range is
split into segments of constant offset, so SQL can group by ``DATE(ordered_at + offset)``
with a bound offset and no timezone tables in the database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["ExtractWindow", "TimeSegment", "month_chunks", "time_segments"]

_STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class ExtractWindow:
    """Days of history and of future covariates one run extracts.

    Attributes:
        start: First history day (inclusive).
        end: Day after the last history day (exclusive): the day after the run's day.
        horizon_end: Day after the last forecast day (exclusive).
    """

    start: date
    end: date
    horizon_end: date

    @classmethod
    def for_logical_date(cls, logical_date: date, history_days: int, horizon: int) -> ExtractWindow:
        """Window of the run for day ``logical_date``: ``history_days`` days up to and
        including it, and the ``horizon`` days after it."""
        end = logical_date + timedelta(days=1)
        return cls(end - timedelta(days=history_days), end, end + timedelta(days=horizon))

    @property
    def last_day(self) -> date:
        """Last history day (the run's day)."""
        return self.end - timedelta(days=1)

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {k: v.isoformat() for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> ExtractWindow:
        """Inverse of :meth:`to_dict`."""
        return cls(
            date.fromisoformat(data["start"]),
            date.fromisoformat(data["end"]),
            date.fromisoformat(data["horizon_end"]),
        )


@dataclass(frozen=True)
class TimeSegment:
    """Source timestamps ``[start, end)`` whose shop-local time is ``source + offset``.

    Attributes:
        start: First source timestamp (naive, source timezone).
        end: End of the segment (exclusive).
        offset_seconds: Shop local time minus source time, in seconds.
    """

    start: datetime
    end: datetime
    offset_seconds: int

    def params(self) -> dict[str, object]:
        """Bound parameters of the extraction SQL (both dialects)."""
        return {
            "ts_start": self.start.strftime("%Y-%m-%d %H:%M:%S"),
            "ts_end": self.end.strftime("%Y-%m-%d %H:%M:%S"),
            "offset_seconds": self.offset_seconds,
            "offset_modifier": f"{self.offset_seconds:+d} seconds",
        }


def _source_naive(day: date, shop: ZoneInfo, source: ZoneInfo) -> datetime:
    """Shop-local midnight of ``day`` as a naive source timestamp."""
    local = datetime(day.year, day.month, day.day, tzinfo=shop)
    return local.astimezone(source).replace(tzinfo=None)


def _offset(instant_utc: datetime, shop: ZoneInfo, source: ZoneInfo) -> int:
    shop_off = instant_utc.astimezone(shop).utcoffset() or timedelta(0)
    src_off = instant_utc.astimezone(source).utcoffset() or timedelta(0)
    return int((shop_off - src_off).total_seconds())


def time_segments(first: date, last: date, shop_tz: str, source_tz: str) -> list[TimeSegment]:
    """Segments of constant offset covering shop days ``first`` .. ``last`` (inclusive).

    Args:
        first: First shop day.
        last: Last shop day.
        shop_tz: The shop's timezone (IANA name).
        source_tz: Timezone of the source's naive timestamps.

    Returns:
        Consecutive segments, oldest first; one segment when the offset never changes.
    """
    if last < first:
        return []
    shop, source = ZoneInfo(shop_tz), ZoneInfo(source_tz)
    start = _source_naive(first, shop, source)
    end = _source_naive(last + timedelta(days=1), shop, source)
    if shop_tz == source_tz:
        return [TimeSegment(start, end, 0)]
    utc = ZoneInfo("UTC")
    start_utc = start.replace(tzinfo=source).astimezone(utc)
    end_utc = end.replace(tzinfo=source).astimezone(utc)
    segments: list[TimeSegment] = []
    seg_start, current = start_utc, _offset(start_utc, shop, source)
    t = start_utc
    while t < end_utc:
        t_next = min(t + _STEP, end_utc)
        off = _offset(t_next, shop, source) if t_next < end_utc else current
        if off != current:
            segments.append(
                TimeSegment(
                    seg_start.astimezone(source).replace(tzinfo=None),
                    t_next.astimezone(source).replace(tzinfo=None),
                    current,
                )
            )
            seg_start, current = t_next, off
        t = t_next
    segments.append(
        TimeSegment(
            seg_start.astimezone(source).replace(tzinfo=None),
            end_utc.astimezone(source).replace(tzinfo=None),
            current,
        )
    )
    return segments


def month_chunks(first: date, last: date) -> list[tuple[date, date]]:
    """Calendar-month pieces ``(first_day, last_day)`` of ``first`` .. ``last`` (inclusive)."""
    chunks = []
    day = first
    while day <= last:
        next_month = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        chunk_last = min(last, next_month - timedelta(days=1))
        chunks.append((day, chunk_last))
        day = chunk_last + timedelta(days=1)
    return chunks
