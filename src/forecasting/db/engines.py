"""Engines and what they tell: the database URL (redacted for messages), its dialect and
the collation of key columns."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

__all__ = ["dialect_of", "key_collation", "make_engine", "redact_url"]

#: The dialects the SQL files are written for.
_DIALECTS = frozenset({"mysql", "sqlite"})


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


def redact_url(url: str | sa.URL) -> str:
    """The URL with its password masked (``***``), for logs and error messages."""
    return sa.make_url(url).render_as_string(hide_password=True)


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


def key_collation(conn: Engine | Connection) -> str:
    """A binary, NO PAD collation for key columns: MariaDB's or MySQL 8's name for it."""
    return "utf8mb4_nopad_bin" if getattr(conn.dialect, "is_mariadb", False) else "utf8mb4_0900_bin"
