"""The project's SQL files: where they are, rendering one for a dialect, running a
multi-statement one, and the identifiers that may reach SQL text."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from jinja2 import Environment, StrictUndefined
from sqlalchemy.engine import Connection

from forecasting.db.engines import _DIALECTS, dialect_of, key_collation

__all__ = ["SQL_DIR", "execute_script", "render_sql", "safe_identifier", "sql_dir"]

#: The repository's SQL folder: the fallback when the package data cannot be found.
SQL_DIR = Path(__file__).resolve().parents[3] / "include" / "sql"
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
        shipped = Path(__file__).resolve().parents[1] / "sql"  # a plain install's package data
        path = shipped if (shipped / "schema").is_dir() else SQL_DIR
    if not path.is_dir():
        raise FileNotFoundError(
            f"SQL folder {path} not found: reinstall the package (pip install .) or set "
            "FORECASTING_SQL_DIR to the repository's include/sql."
        )
    return path


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
