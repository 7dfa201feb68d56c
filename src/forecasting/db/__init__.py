"""Database access: engines, SQL files from ``include/sql/`` and bulk I/O.

All SQL lives in ``include/sql/<stage>/<verb_object>.sql``. Files are Jinja templates
rendered only with whitelisted identifiers (the SQL ``dialect``); every value is a bound
parameter (``:name``), never formatted into the text.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa
from jinja2 import Environment, StrictUndefined
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

T = TypeVar("T")

__all__ = [
    "SQL_DIR",
    "DatabaseUnavailableError",
    "dialect_of",
    "execute_script",
    "insert_frame",
    "insert_rows",
    "is_transient",
    "key_collation",
    "make_engine",
    "read_frame",
    "redact_url",
    "render_sql",
    "retrying",
    "safe_identifier",
    "sql_dir",
    "stream_frames",
]

log = logging.getLogger(__name__)

#: The repository's SQL folder: the fallback when the package data cannot be found.
SQL_DIR = Path(__file__).resolve().parents[2] / "include" / "sql"
_DIALECTS = frozenset({"mysql", "sqlite"})
#: MySQL client errors that mean "the server went away or cannot be reached right now":
#: can't connect (2002, 2003), server gone (2006), lost connection (2013, 2055), server
#: shutting down (1053), too many connections (1040), lock wait / deadlock (1205, 1213).
_TRANSIENT_MYSQL_CODES = frozenset({1040, 1053, 1205, 1213, 2002, 2003, 2006, 2013, 2055})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_JINJA = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def sql_dir() -> Path:
    """Folder with the project's SQL files.

    ``FORECASTING_SQL_DIR`` if set; else the ``forecasting.sql`` package data (the files of
    ``include/sql``, shipped inside the package, so a plain install finds them); else the
    repository's ``include/sql``.

    Raises:
        FileNotFoundError: If none of them exists.
    """
    if os.environ.get("FORECASTING_SQL_DIR"):
        path = Path(os.environ["FORECASTING_SQL_DIR"])
    else:
        shipped = Path(__file__).resolve().parent / "sql"  # a plain install's package data
        path = shipped if (shipped / "schema").is_dir() else SQL_DIR
    if not path.is_dir():
        raise FileNotFoundError(
            f"SQL folder {path} not found: reinstall the package (pip install .) or set "
            "FORECASTING_SQL_DIR to the repository's include/sql."
        )
    return path


def make_engine(url: str | sa.URL, **connect_args: Any) -> Engine:
    """Create a SQLAlchemy engine for a source or warehouse URL.

    ``mysql://`` URLs use mysqlclient when it is installed (about 3x faster reads than
    PyMySQL), else PyMySQL. SQLite files get their parent folder created.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:///.data/shop.db`` or
            ``mysql://user:pass@host:3306/shop``.
        **connect_args: Passed to the driver (e.g. ``local_infile=True`` for bulk loads).

    Returns:
        An engine with ``pool_pre_ping`` on.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "mysql" and parsed.get_driver_name() in ("", "mysqldb"):
        try:
            import MySQLdb  # noqa: F401

            parsed = parsed.set(drivername="mysql+mysqldb")
        except ImportError:
            parsed = parsed.set(drivername="mysql+pymysql")
    if parsed.get_backend_name() == "mysql":
        query = dict(parsed.query)
        query.setdefault("charset", "utf8mb4")
        parsed = parsed.set(query=query)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_math)
    return engine


def _sqlite_math(dbapi_connection: Any, _record: Any) -> None:
    """Give SQLite builds without math functions the ``SQRT`` the monitoring SQL uses, and
    overwrite deleted rows with zeros (a forgotten customer's deleted rows must not linger
    in free pages; builds differ in their default)."""
    dbapi_connection.execute("PRAGMA secure_delete = ON")
    try:
        dbapi_connection.execute("SELECT SQRT(4)")
    except Exception:  # sqlite3.OperationalError: no such function
        dbapi_connection.create_function(
            "SQRT", 1, lambda x: None if x is None or x < 0 else math.sqrt(x), deterministic=True
        )


class DatabaseUnavailableError(RuntimeError):
    """A database could not be reached (after retries); retrying later may succeed.

    The message names the database without its password.
    """


def redact_url(url: str | sa.URL) -> str:
    """The URL with its password masked (``***``), for logs and error messages."""
    return sa.make_url(url).render_as_string(hide_password=True)


def safe_identifier(name: str) -> str:
    """Return ``name`` if it is a plain SQL identifier (letters, digits, ``_``; max 64).

    Every identifier that comes from configuration (database, schema or table names)
    passes through here before it reaches SQL text; values are always bound parameters.

    Raises:
        ValueError: For anything else (quotes, spaces, semicolons, dots, unicode ...).
    """
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


def is_transient(exc: BaseException) -> bool:
    """Whether a database error is worth retrying (connection lost, server restarting,
    lock timeouts); wrong credentials, missing tables and bad SQL are not."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    if isinstance(exc, InterfaceError):
        return True
    orig = getattr(exc, "orig", None)
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in _TRANSIENT_MYSQL_CODES
    text = str(orig).lower()
    return "database is locked" in text or "lost connection" in text


def retrying(
    action: Callable[[], T],
    what: str,
    url: str | sa.URL,
    attempts: int = 3,
    first_delay: float = 2.0,
) -> T:
    """Run ``action``; retry transient database errors with exponential backoff.

    Args:
        action: The work; it must be safe to repeat (a read, or one whole transaction).
        what: What is being done, for messages (``"extract"``, ``"publish"``).
        url: The database URL (redacted in messages).
        attempts: Tries in total.
        first_delay: Seconds before the second try; doubled each time.

    Raises:
        DatabaseUnavailableError: When every try failed with a transient error.
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            orig = getattr(exc, "orig", exc)
            if attempt == attempts:
                raise DatabaseUnavailableError(
                    f"{what}: database {redact_url(url)} unavailable after {attempts} tries: {orig}"
                ) from exc
            log.warning(
                "%s: database %s unavailable (%s); retry %d/%d in %.0fs",
                what,
                redact_url(url),
                orig,
                attempt,
                attempts - 1,
                delay,
            )
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def dialect_of(engine: Engine | Connection) -> str:
    """Return ``"mysql"`` or ``"sqlite"``.

    Raises:
        ValueError: For any other database (the SQL files support just these two).
    """
    name = engine.dialect.name
    name = "mysql" if name == "mariadb" else name
    if name not in _DIALECTS:
        raise ValueError(f"Unsupported database dialect {name!r}; use MySQL/MariaDB or SQLite.")
    return name


@cache
def _template(name: str) -> str:
    path = sql_dir() / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"No SQL file {path}")
    return path.read_text(encoding="utf-8")


def render_sql(name: str, dialect: str, **identifiers: str) -> str:
    """Render ``include/sql/<name>.sql`` for a dialect.

    Args:
        name: Path below ``include/sql`` without the suffix, e.g. ``"extract/select_order_lines"``.
        dialect: ``"mysql"`` or ``"sqlite"``.
        **identifiers: Further identifiers a template may use (collation names); each is
            checked with :func:`safe_identifier`. Values are never templated.

    Returns:
        SQL text that still holds its ``:name`` bind parameters.
    """
    if dialect not in _DIALECTS:
        raise ValueError(f"dialect must be one of {sorted(_DIALECTS)}, not {dialect!r}")
    names = {k: safe_identifier(v) for k, v in identifiers.items()}
    return _strip_comments(_JINJA.from_string(_template(name)).render(dialect=dialect, **names))


def _strip_comments(sql: str) -> str:
    """Drop ``--`` comments (they may mention ``:names`` that are not parameters).

    Our SQL files keep ``--`` out of string literals, so a plain split is safe.
    """
    lines = (line.split("--", 1)[0].rstrip() for line in sql.splitlines())
    return "\n".join(line for line in lines if line.strip())


def _statements(script: str) -> list[str]:
    """Split a (comment-free) script on semicolons that end a line."""
    return [part.strip() for part in re.split(r";\s*(?:\n|$)", script) if part.strip()]


def key_collation(conn: Engine | Connection) -> str:
    """A binary, NO PAD collation for key columns: MariaDB's or MySQL 8's name for it."""
    return "utf8mb4_nopad_bin" if getattr(conn.dialect, "is_mariadb", False) else "utf8mb4_0900_bin"


def execute_script(
    conn: Connection,
    name: str,
    params: Mapping[str, Any] | None = None,
    **identifiers: str,
) -> None:
    """Run every statement of a multi-statement SQL file inside the caller's transaction.

    Args:
        conn: Connection (in a transaction).
        name: SQL file below ``include/sql``.
        params: Bound values.
        **identifiers: Identifiers the template uses (checked by :func:`safe_identifier`).
    """
    dialect = dialect_of(conn)
    extra = {"key_collation": key_collation(conn)} if dialect == "mysql" else {}
    for statement in _statements(render_sql(name, dialect, **extra, **identifiers)):
        conn.execute(sa.text(statement), dict(params or {}))


def read_frame(
    engine: Engine, name: str, params: Mapping[str, Any], parse_dates: Sequence[str] = ()
) -> pd.DataFrame:
    """Run a SELECT from ``include/sql`` with bound parameters and return a DataFrame."""
    sql = sa.text(render_sql(name, dialect_of(engine)))
    with engine.connect() as conn:
        frame = pd.read_sql(sql, conn, params=dict(params), parse_dates=list(parse_dates))
    log.info("%s returned %d rows", name, len(frame))
    return frame


def stream_frames(
    engine: Engine,
    name: str,
    params: Mapping[str, Any],
    chunk_rows: int = 100_000,
) -> Iterator[pd.DataFrame]:
    """Run a SELECT from ``include/sql`` and yield its rows as frames of ``chunk_rows``.

    On MySQL a server-side cursor streams the result, so memory stays bounded by one chunk
    however large the result is. Rows go straight from the driver's cursor into frames
    (SQLAlchemy's per-row result processing would halve the read rate).
    """
    compiled = sa.text(render_sql(name, dialect_of(engine))).compile(dialect=engine.dialect)
    dbapi = engine.dialect.loaded_dbapi
    raw = None
    try:
        raw = engine.raw_connection()
        if dialect_of(engine) == "mysql":
            import pymysql.cursors

            cursor = raw.driver_connection.cursor(pymysql.cursors.SSCursor)  # type: ignore[union-attr]
        else:
            cursor = raw.cursor()
        try:
            bound = compiled.construct_params(dict(params))
            values: Any = (
                tuple(bound[k] for k in compiled.positiontup or ())
                if compiled.positional
                else bound
            )
            cursor.execute(str(compiled), values)
            columns = [c[0] for c in cursor.description]
            while rows := cursor.fetchmany(chunk_rows):
                yield pd.DataFrame.from_records(list(rows), columns=columns)
        finally:
            with contextlib.suppress(dbapi.Error):  # the connection may be gone
                cursor.close()
    except dbapi.Error as exc:  # the raw driver's errors, as SQLAlchemy would raise them
        if raw is not None:
            raw.invalidate()
        raise sa.exc.DBAPIError.instance(
            str(compiled), None, exc, dbapi.Error, connection_invalidated=True
        ) from exc
    finally:
        if raw is not None:
            with contextlib.suppress(dbapi.Error):
                raw.close()


_VALUES = re.compile(r"^(?P<prefix>.*?\bVALUES)\s*\((?P<params>[^()]*)\)\s*;?\s*$", re.S | re.I)


def insert_frame(conn: Connection, name: str, frame: pd.DataFrame, chunk_rows: int = 20_000) -> int:
    """Insert a frame's rows with ``include/sql/<name>.sql``, inside the caller's transaction.

    The file holds one ``INSERT INTO t (...) VALUES (:a, :b, ...)``; ``frame`` has a column
    per parameter. On SQLite the rows are bound parameters (``executemany``). On MySQL the
    rows go as multi-row ``VALUES`` lists whose literals are built a column at a time:
    strings are escaped by the driver's connection once per distinct value, numbers and
    dates are formatted by pandas, NaN and None become ``NULL``. PyMySQL's own path escapes
    every value in Python: publishing one day's 840,000 forecasts (30,000 series) took
    122 s that way and 34 s this way, measured on a loaded machine; the rest is MariaDB's.

    Returns:
        Number of rows inserted.

    Raises:
        ValueError: If the file is not a single-row ``INSERT ... VALUES`` or a parameter
            has no column, or a float is infinite.
    """
    dialect = dialect_of(conn)
    sql = render_sql(name, dialect)
    match = _VALUES.match(sql.strip())
    if match is None:
        raise ValueError(f"{name}.sql is not one INSERT ... VALUES (:a, :b, ...)")
    params = [p.strip().lstrip(":") for p in match["params"].split(",")]
    missing = [p for p in params if p not in frame.columns]
    if missing:
        raise ValueError(f"{name}: the frame lacks columns {missing}")
    if frame.empty:
        return 0
    floats = frame.loc[:, params].select_dtypes("number").to_numpy(float)
    if np.isinf(floats).any():
        raise ValueError(f"{name}: the frame holds infinite values")
    if dialect != "mysql":
        columns = [_python_values(frame[p]) for p in params]
        records = [dict(zip(params, row, strict=True)) for row in zip(*columns, strict=True)]
        for start in range(0, len(records), chunk_rows):
            conn.execute(sa.text(sql), records[start : start + chunk_rows])
        return len(records)
    driver = conn.connection.driver_connection
    literals = [_mysql_literals(frame[p], driver) for p in params]
    rows = ["(" + ",".join(values) + ")" for values in zip(*literals, strict=True)]
    dbapi = conn.dialect.loaded_dbapi
    try:
        cursor = driver.cursor()  # type: ignore[union-attr]
        try:
            for start in range(0, len(rows), chunk_rows):
                # No parameters: the driver sends the statement as it is (no % formatting).
                cursor.execute(f"{match['prefix']}\n{','.join(rows[start : start + chunk_rows])}")
        finally:
            with contextlib.suppress(dbapi.Error):  # the connection may be gone
                cursor.close()
    except dbapi.Error as exc:  # the raw driver's errors, as SQLAlchemy would raise them
        lost = conn.dialect.is_disconnect(exc, driver, None)
        if lost:
            conn.invalidate(exc)
        raise sa.exc.DBAPIError.instance(
            f"{match['prefix']} ... ({len(rows)} rows)",
            None,
            exc,
            dbapi.Error,
            connection_invalidated=lost,
        ) from exc
    return len(rows)


def _python_values(column: pd.Series) -> list[Any]:
    """A column as Python values SQLite binds: ISO dates, floats, ints, str, None."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return [None if pd.isna(v) else v.date().isoformat() for v in column]
    values = column.astype(object).where(column.notna(), None).tolist()
    return [v.isoformat() if hasattr(v, "isoformat") else v for v in values]


def _mysql_literals(column: pd.Series, driver: Any) -> list[str]:
    """A column as SQL literals: each distinct string or date escaped once by the driver."""
    if pd.api.types.is_bool_dtype(column):
        return np.where(column.to_numpy(), "1", "0").tolist()
    if pd.api.types.is_integer_dtype(column):
        return np.where(column.isna(), "NULL", column.astype(str)).tolist()
    if pd.api.types.is_float_dtype(column):
        values = column.to_numpy(float)
        return np.where(np.isnan(values), "NULL", values.astype(str)).tolist()
    if pd.api.types.is_datetime64_any_dtype(column):
        column = column.dt.strftime("%Y-%m-%d")
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    escaped = [driver.escape(v.isoformat() if hasattr(v, "isoformat") else str(v)) for v in uniques]
    table = np.array([*escaped, "NULL"], dtype=object)
    return table[codes].tolist()  # code -1 (missing) picks the last entry: NULL


def insert_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    chunk_size: int = 20_000,
) -> int:
    """Insert rows with ``executemany`` in chunks, inside the caller's transaction.

    ``table`` and ``columns`` are checked with :func:`safe_identifier` and quoted by
    SQLAlchemy. Values are bound parameters.

    Returns:
        Number of rows inserted.
    """
    tbl = sa.table(safe_identifier(table), *[sa.column(safe_identifier(c)) for c in columns])
    stmt = sa.insert(tbl)
    total = 0
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(dict(zip(columns, row, strict=True)))
        if len(chunk) >= chunk_size:
            conn.execute(stmt, chunk)
            total += len(chunk)
            chunk = []
    if chunk:
        conn.execute(stmt, chunk)
        total += len(chunk)
    return total
