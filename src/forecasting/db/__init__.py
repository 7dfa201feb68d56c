"""Database access: engines, SQL files from ``include/sql/`` and bulk I/O.

All SQL lives in ``include/sql/<stage>/<verb_object>.sql``. Files are Jinja templates
rendered only with whitelisted identifiers (the SQL ``dialect``); every value is a bound
parameter (``:name``), never formatted into the text.

The package's modules: :mod:`~forecasting.db.engines` (engines, URLs, dialects),
:mod:`~forecasting.db.sql` (the SQL files and identifiers), :mod:`~forecasting.db.retry`
(which errors are worth retrying, and retrying them) and :mod:`~forecasting.db.frames`
(frames in and out).
"""

from forecasting.db.engines import dialect_of, key_collation, make_engine, redact_url
from forecasting.db.frames import insert_frame, insert_rows, read_frame, stream_frames
from forecasting.db.retry import DatabaseUnavailableError, is_transient, retrying
from forecasting.db.sql import SQL_DIR, execute_script, render_sql, safe_identifier, sql_dir

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
