"""Reading the shop's ``web_events`` table: one shop day at a time, pseudonymised.

An event log is one to two orders of magnitude bigger than the order lines, so events are
never read as a whole: :func:`read_web_events` yields one frame per shop day (a day is the
source time range of :func:`~forecasting.extraction.window.time_segments`, exactly as for
orders and reviews), and memory is bounded by one day's events. ``occurred_at`` is moved to
the shop's local time in SQL; opted-out customers' events are left out in SQL (a source
without ``customer_optouts`` cannot honour opt-outs, so no customer id is read at all); the
raw ``session_id`` and ``customer_id`` are replaced by keyed pseudonyms
(:func:`~forecasting.customers.privacy.pseudonymise`, contexts ``session`` and
``customer``) before a frame leaves this module. Raw ids are never stored.

Two readers:

* ``connectorx`` -- ConnectorX (Rust, Arrow) on MySQL/MariaDB: the query result lands in
  Arrow columns without a Python object per value. ConnectorX takes SQL text, not bound
  parameters, so the day's bounds are rendered as literals by SQLAlchemy's dialect (they
  are timestamps and an offset this module computes, never input).
* ``sqlalchemy`` -- the project's streaming read (:func:`forecasting.db.stream_frames`,
  PyMySQL's server-side cursor on MySQL), and always on SQLite.

``auto`` (the default, :data:`DEFAULT_READER`) takes ConnectorX on MySQL when it is
installed. Measured with ``bench/event_extraction.py`` on MariaDB 10.11 (a generated log of
100,000 events a day, 300 SKUs; a shared 2-core machine at load average 10-14, so CPU
seconds of the client are the steadier figure): over 5 days (500,000 events) the driver
alone read 36,000 rows/s with ConnectorX (2.1 s CPU, peak +106 MiB) against 13,000 rows/s
with PyMySQL (13.8 s CPU, +66 MiB); :func:`read_web_events` end to end (typing and
pseudonyms included) 32,600 rows/s (3.6 s CPU, +145 MiB) against 11,300 rows/s (15.6 s CPU,
+110 MiB). Memory is one day's events either way.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.behaviour.events import EVENT_COLUMNS, empty_events
from forecasting.db import dialect_of, read_frame, render_sql, stream_frames
from forecasting.extraction.window import time_segments

__all__ = [
    "DEFAULT_READER",
    "READERS",
    "EventReader",
    "has_web_events",
    "read_web_events",
    "resolve_reader",
    "sync_key",
]

log = logging.getLogger(__name__)

#: The source table.
EVENTS_TABLE = "web_events"
#: The readers :func:`read_web_events` knows (``auto`` picks one, see module docstring).
READERS = ("auto", "connectorx", "sqlalchemy")
EventReader = Literal["auto", "connectorx", "sqlalchemy"]
#: The reader the pipeline uses.
DEFAULT_READER: EventReader = "auto"
#: Rows per fetch of the streaming reader.
CHUNK_ROWS = 200_000


def sync_key(configured: bytes | None = None) -> bytes:
    """The key that pseudonymises one sync's sessions and customers.

    The configured customer key when there is one (``configured``, else
    ``$FORECASTING_CUSTOMER_KEY``); otherwise a random key made for this sync and never
    stored. The demand path stores only counts (distinct sessions per SKU and day), which
    do not depend on the key, so a random key loses nothing and leaves nothing to reverse.
    """
    if configured is not None:
        return configured
    from forecasting.customers.privacy import MissingKeyError, customer_key

    try:
        return customer_key()
    except MissingKeyError:
        return secrets.token_bytes(32)


def has_web_events(
    engine: Engine, first_day: date, last_day: date, shop_tz: str, source_tz: str
) -> bool:
    """Whether the source has a ``web_events`` table with a row in shop days
    ``first_day`` .. ``last_day``."""
    if not sa.inspect(engine).has_table(EVENTS_TABLE):
        return False
    for seg in time_segments(first_day, last_day, shop_tz, source_tz):
        if len(read_frame(engine, "extract/select_any_web_event", seg.params())):
            return True
    return False


def resolve_reader(engine: Engine, reader: EventReader = DEFAULT_READER) -> EventReader:
    """The reader that will run: ``sqlalchemy`` on SQLite (always) and when ConnectorX is
    not installed under ``auto``; ``connectorx`` on MySQL otherwise.

    Raises:
        ValueError: For an unknown reader, or ``connectorx`` asked for on SQLite.
    """
    if reader not in READERS:
        raise ValueError(f"unknown event reader {reader!r}; choose from {list(READERS)}")
    mysql = dialect_of(engine) == "mysql"
    if reader == "connectorx" and not mysql:
        raise ValueError("the connectorx event reader needs MySQL/MariaDB")
    if reader != "auto":
        return reader
    if not mysql:
        return "sqlalchemy"
    try:
        import connectorx  # noqa: F401
    except ImportError:  # pragma: no cover - pinned in requirements-runtime.txt
        log.warning("connectorx is not installed: web events are read through PyMySQL")
        return "sqlalchemy"
    return "connectorx"


def read_web_events(
    engine: Engine,
    first_day: date,
    last_day: date,
    shop_tz: str,
    source_tz: str,
    key: bytes,
    *,
    reader: EventReader = DEFAULT_READER,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """Yield the events of each shop day ``first_day`` .. ``last_day``, one frame per day.

    Exactly one frame per day, in day order (a day without events gives an empty frame),
    so the ``i``-th frame is day ``first_day + i``. See the module docstring for what is
    left out and how ids are pseudonymised.

    Args:
        engine: The source database.
        first_day: First shop day.
        last_day: Last shop day.
        shop_tz: The shop's timezone.
        source_tz: Timezone of the source's naive timestamps.
        key: Pseudonymisation key (:func:`sync_key`).
        reader: ``auto``, ``connectorx`` or ``sqlalchemy`` (see :func:`resolve_reader`).
        chunk_rows: Rows per fetch of the streaming reader.

    Yields:
        :data:`~forecasting.behaviour.events.EVENT_COLUMNS`: ``event_id``, ``event_type``,
        ``location_id`` (str), ``occurred_at`` (datetime64, naive, shop time),
        ``session`` (pseudonym), ``customer`` (pseudonym or ``None``), ``sku`` and
        ``query`` (str or ``None``), in the source's order.
    """
    chosen = resolve_reader(engine, reader)
    optouts = sa.inspect(engine).has_table("customer_optouts")
    if not optouts:
        log.warning("web_events: no customer_optouts table to honour opt-outs: no customer ids")
    name = "extract/select_web_events" if optouts else "extract/select_anonymous_web_events"
    day = first_day
    while day <= last_day:
        parts: list[pd.DataFrame] = []
        for seg in time_segments(day, day, shop_tz, source_tz):
            if chosen == "connectorx":
                parts.append(_read_connectorx(engine, name, seg.params()))
            else:
                parts += list(stream_frames(engine, name, seg.params(), chunk_rows))
        yield _finish([p for p in parts if len(p)], key)
        day += timedelta(days=1)


def _literal_sql(engine: Engine, name: str, params: Mapping[str, Any]) -> str:
    """The SQL file with its parameters rendered as literals by the dialect (ConnectorX
    takes no bound parameters; the values are this module's own bounds)."""
    text = sa.text(render_sql(name, dialect_of(engine), reader="connectorx"))
    used = {k: v for k, v in params.items() if k in text.compile().params}
    text = text.bindparams(**used)
    return str(text.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def connectorx_url(engine: Engine) -> str:
    """The engine's URL as ConnectorX reads it (``mysql://user:password@host:port/db``)."""
    url = engine.url
    return url.set(drivername="mysql", query={}).render_as_string(hide_password=False)


def _read_connectorx(engine: Engine, name: str, params: Mapping[str, Any]) -> pd.DataFrame:
    import connectorx as cx

    table = cx.read_sql(
        connectorx_url(engine), _literal_sql(engine, name, params), return_type="arrow"
    )
    return table.to_pandas()


def _finish(parts: list[pd.DataFrame], key: bytes) -> pd.DataFrame:
    """One day's raw rows to :data:`EVENT_COLUMNS`, ids pseudonymised."""
    if not parts:
        return empty_events()
    from forecasting.customers.privacy import pseudonymise

    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    del parts
    sessions = frame.pop("session_id")
    customers = frame.pop("customer_id")
    frame["session"] = pseudonymise(sessions, key, "session").to_numpy()
    frame["customer"] = (
        pseudonymise(customers, key, "customer").to_numpy() if customers.notna().any() else None
    )
    del sessions, customers
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"]).astype("datetime64[ns]")
    # Missing values stay missing (validation reports a missing event id or type).
    for col in ("event_id", "event_type", "sku", "location_id", "query"):
        frame[col] = _strings(frame[col])
    return frame.loc[:, list(EVENT_COLUMNS)].astype({"customer": object})


def _strings(column: pd.Series) -> pd.Series:
    """Python strings as an object column, missing values as ``None``."""
    out = column.astype(object)
    mask = out.notna()
    if mask.all():
        return out.astype(str)
    strings = out.astype(str).astype(object)
    strings[~mask] = None
    return strings
