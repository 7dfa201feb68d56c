"""What the ``forecasting`` command says when something goes wrong: one line a person reads.

The traceback is for ``-v``; without it a failure is ``forecasting <command>: error: ...``.
"""

from __future__ import annotations

import errno

__all__ = ["UsageError", "message"]


class UsageError(ValueError):
    """A command-line value that cannot work, named by its flag."""


def message(exc: Exception) -> str:
    """What went wrong, for a person: a database error is the driver's one line (never the
    SQL, the parameters or the URL with its password); a full disk says which file and
    what to do; validation reports keep their lines.

    Args:
        exc: The error a command raised.

    Returns:
        The message, without the ``forecasting <command>: error:`` prefix.
    """
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        orig = exc.orig if exc.orig is not None else exc
        return f"database error: {' '.join(str(orig).split())}"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = f" writing {exc.filename}" if exc.filename else ""
        return f"no space left on device{where}; free space on that disk and run again"
    return str(exc)
