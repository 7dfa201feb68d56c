"""Transient database errors (connection lost, server restarting, lock timeouts) and
retrying the work they interrupted."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from forecasting.db.engines import redact_url

T = TypeVar("T")

__all__ = ["DatabaseUnavailableError", "is_transient", "retrying"]

log = logging.getLogger(__name__)

#: MySQL client errors that mean "the server went away or cannot be reached right now":
#: can't connect (2002, 2003), server gone (2006), lost connection (2013, 2055), server
#: shutting down (1053), too many connections (1040), lock wait / deadlock (1205, 1213).
_TRANSIENT_MYSQL_CODES = frozenset({1040, 1053, 1205, 1213, 2002, 2003, 2006, 2013, 2055})


class DatabaseUnavailableError(RuntimeError):
    """A database could not be reached (after retries); retrying later may succeed.

    The message names the database without its password.
    """


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
