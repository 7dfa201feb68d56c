"""Database access: engines, SQL files from ``include/sql/`` and bulk I/O.

All SQL lives in ``include/sql/<stage>/<verb_object>.sql``. Files are Jinja templates
rendered only with whitelisted identifiers (the SQL ``dialect``); every value is a bound
parameter (``:name``), never formatted into the text.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from jinja2 import Environment, StrictUndefined
from sqlalchemy.engine import Connection, Engine

__all__ = [
    "SQL_DIR",
    "dialect_of",
    "execute_script",
    "insert_rows",
    "make_engine",
    "read_frame",
    "render_sql",
    "sql_dir",
]

log = logging.getLogger(__name__)

#: Repository folder holding the SQL files (overridable with ``FORECASTING_SQL_DIR``).
SQL_DIR = Path(__file__).resolve().parents[2] / "include" / "sql"
_DIALECTS = frozenset({"mysql", "sqlite"})
_JINJA = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def sql_dir() -> Path:
    """Folder with the project's SQL files.

    Raises:
        FileNotFoundError: If neither ``FORECASTING_SQL_DIR`` nor the repository's
            ``include/sql`` exists (e.g. the package was installed without the repo).
    """
    path = Path(os.environ.get("FORECASTING_SQL_DIR", SQL_DIR))
    if not path.is_dir():
        raise FileNotFoundError(
            f"SQL folder {path} not found: install the package in editable mode from the "
            "repository (pip install -e .) or set FORECASTING_SQL_DIR to include/sql."
        )
    return path


def make_engine(url: str | sa.URL) -> Engine:
    """Create a SQLAlchemy engine for a source or warehouse URL.

    ``mysql://`` URLs use mysqlclient when it is installed (about 3x faster reads than
    PyMySQL), else PyMySQL. SQLite files get their parent folder created.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:///.data/shop.db`` or
            ``mysql://user:pass@host:3306/shop``.

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
    return sa.create_engine(parsed, pool_pre_ping=True, future=True)


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


def render_sql(name: str, dialect: str) -> str:
    """Render ``include/sql/<name>.sql`` for a dialect.

    Args:
        name: Path below ``include/sql`` without the suffix, e.g. ``"extract/select_daily_demand"``.
        dialect: ``"mysql"`` or ``"sqlite"``; the only identifier templates may branch on.

    Returns:
        SQL text that still holds its ``:name`` bind parameters.
    """
    if dialect not in _DIALECTS:
        raise ValueError(f"dialect must be one of {sorted(_DIALECTS)}, not {dialect!r}")
    return _strip_comments(_JINJA.from_string(_template(name)).render(dialect=dialect))


def _strip_comments(sql: str) -> str:
    """Drop ``--`` comments (they may mention ``:names`` that are not parameters).

    Our SQL files keep ``--`` out of string literals, so a plain split is safe.
    """
    lines = (line.split("--", 1)[0].rstrip() for line in sql.splitlines())
    return "\n".join(line for line in lines if line.strip())


def _statements(script: str) -> list[str]:
    """Split a (comment-free) script on semicolons that end a line."""
    return [part.strip() for part in re.split(r";\s*(?:\n|$)", script) if part.strip()]


def execute_script(conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> None:
    """Run every statement of a multi-statement SQL file inside the caller's transaction."""
    for statement in _statements(render_sql(name, dialect_of(conn))):
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


def insert_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    chunk_size: int = 20_000,
) -> int:
    """Insert rows with ``executemany`` in chunks, inside the caller's transaction.

    ``table`` and ``columns`` are identifiers chosen by our own code (never user input);
    they are quoted by SQLAlchemy. Values are bound parameters.

    Returns:
        Number of rows inserted.
    """
    tbl = sa.table(table, *[sa.column(c) for c in columns])
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
