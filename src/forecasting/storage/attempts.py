"""Attempt folders: their names (which carry their creation time), sealing one with
``_SUCCESS``, and removing what writers that are gone left behind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from upath import UPath

from forecasting.storage.files import _is_local, read_json, write_json

__all__ = [
    "ATTEMPT_GRACE",
    "ATTEMPT_PREFIX",
    "COMMITTED",
    "SUCCESS",
    "attempt_of",
    "is_stale_temp",
    "remove_leftovers",
    "seal",
]

SUCCESS = "_SUCCESS"
COMMITTED = "_COMMITTED"
ATTEMPT_PREFIX = "attempt="
_STAMP = "%Y%m%dT%H%M%SZ"
#: How old another writer's attempt folder (or temporary file) must be before a commit may
#: delete it: longer than any run lives (the DAGs' ``dagrun_timeout`` is 6 hours at most),
#: so no live writer can still be filling or committing it.
ATTEMPT_GRACE = timedelta(hours=6)


def _attempt_name() -> str:
    """``attempt=<UTC time>-<random id>``: unique, and its age is readable on any storage."""
    return f"{ATTEMPT_PREFIX}{datetime.now(UTC).strftime(_STAMP)}-{uuid.uuid4().hex[:12]}"


def attempt_of(path: UPath) -> UPath | None:
    """The ``attempt=…`` folder ``path`` lies in (or is), ``None`` outside any."""
    attempt = path
    while not attempt.name.startswith(ATTEMPT_PREFIX):
        if attempt.parent == attempt:
            return None
        attempt = attempt.parent
    return attempt


def seal(attempt: UPath) -> None:
    """Write ``_SUCCESS`` listing the attempt's files and their sizes (again, after a file
    in a sealed attempt was rewritten)."""
    files = {
        "/".join(p.parts[len(attempt.parts) :]): p.stat().st_size
        for p in attempt.rglob("*")
        if p.is_file() and p.name != SUCCESS
    }
    write_json(attempt / SUCCESS, {"files": files})


def is_stale_temp(path: UPath, age: timedelta, now: datetime | None = None) -> bool:
    """Whether ``path`` is a temporary file of an atomic write at least ``age`` old (its
    writer is gone: a live one renames it within seconds)."""
    if ".tmp-" not in path.name:
        return False
    try:
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return False
    return (now or datetime.now(UTC)) - modified >= age


def _attempt_started(name: str) -> datetime | None:
    """When an attempt folder was created (``None`` for names without a time)."""
    stamp = name.removeprefix(ATTEMPT_PREFIX).split("-", 1)[0]
    try:
        return datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def remove_leftovers(
    folder: UPath, keep: str = "", grace: timedelta = ATTEMPT_GRACE, now: datetime | None = None
) -> int:
    """Delete what writers that are gone left in ``folder``: other attempt folders and
    temporary files of interrupted atomic writes, once older than ``grace``.

    Never deletes ``keep``, the attempt ``_COMMITTED`` names now, or anything younger than
    ``grace`` (another run, or another try of the same task, may still be writing or
    committing it). Returns how many were removed.
    """
    now = now or datetime.now(UTC)
    pointer = folder / COMMITTED
    current = read_json(pointer).get("attempt") if pointer.exists() else None
    removed = 0
    for other in folder.iterdir():
        if other.name.startswith(ATTEMPT_PREFIX):
            if other.name in (keep, current):
                continue
            started = _attempt_started(other.name)
            if started is not None and now - started < grace:
                continue
            _remove(other)
            removed += 1
        elif is_stale_temp(other, grace, now):
            other.unlink(missing_ok=True)
            removed += 1
    return removed


def _remove(path: UPath) -> None:
    """Delete a folder and everything below it (best effort: it may already be gone)."""
    try:
        if _is_local(path):
            import shutil

            shutil.rmtree(path.path, ignore_errors=True)
        else:
            path.fs.rm(path.path, recursive=True)
    except FileNotFoundError:
        pass
