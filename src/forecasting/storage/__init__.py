"""Where task outputs live: one storage root that every worker reaches.

Tasks hand each other URIs (strings), never data, and never a worker's local disk. Every
URI is below one root, ``FORECASTING_STORAGE_URI``: a local folder by default,
``s3://bucket/prefix`` in production (MinIO in ``docker-compose.yaml``). The root is a
``upath.UPath``; under Airflow it is an ``ObjectStoragePath`` (a UPath subclass) that
carries the storage connection, so this module only uses the pathlib-like API they share.

Layout::

    runs/ds=<day>/<stage>/[shard=<k>-of-<n>/]attempt=<id>/...   one task's output
    runs/ds=<day>/<stage>/[shard=...]/_COMMITTED                   which attempt is current
    store/...                                                      incremental source cache

Commit protocol (object stores cannot rename atomically): a task writes its files into a
fresh ``attempt=<UTC time>-<id>`` folder, then ``_SUCCESS`` listing them, then the
``_COMMITTED`` pointer (one small object, replaced in one write). Readers only open
attempts that have ``_SUCCESS``, so a partial folder left by a killed task is never
trusted.

Clean-up never races a live writer: a commit deletes the other attempts of its stage only
once they are older than :data:`ATTEMPT_GRACE` (longer than any run may live, so their
writer is gone), and never the attempt ``_COMMITTED`` names at that moment. Before the
pointer is written the storage's ``fence`` runs (the run's lease: a run that lost it
never commits), and the sealed attempt is checked to be still there, so ``_COMMITTED``
never names a missing attempt. :meth:`Storage.verify` finds a pointer that does anyway
(written by an older version, or a damaged store) and, with ``repair``, removes it: the
stage then counts as never finished and the next run of the date writes it again.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import logging
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from upath import UPath

from forecasting.errors import NonRetryableError

__all__ = [
    "ATTEMPT_GRACE",
    "PartialOutputError",
    "Storage",
    "StorageConflictError",
    "StorageFullError",
    "StorageUnavailableError",
    "attempt_of",
    "download_dir",
    "is_stale_temp",
    "read_json",
    "read_parquet",
    "remove_leftovers",
    "seal",
    "upload_dir",
    "write_bytes_atomic",
    "write_json",
    "write_parquet",
]

log = logging.getLogger(__name__)

SUCCESS = "_SUCCESS"
COMMITTED = "_COMMITTED"
ATTEMPT_PREFIX = "attempt="
_STAMP = "%Y%m%dT%H%M%SZ"
#: How old another writer's attempt folder (or temporary file) must be before a commit may
#: delete it: longer than any run lives (the DAGs' ``dagrun_timeout`` is 6 hours at most),
#: so no live writer can still be filling or committing it.
ATTEMPT_GRACE = timedelta(hours=6)


class PartialOutputError(RuntimeError):
    """An output folder without ``_SUCCESS``: written by a task that did not finish."""


class StorageConflictError(NonRetryableError):
    """Storage changed under a task: its attempt was deleted while it wrote it, or a
    ``_COMMITTED`` pointer names an attempt that is not there."""


class StorageFullError(NonRetryableError):
    """The storage's disk is full: names the stage and the file that could not be written."""


class StorageUnavailableError(NonRetryableError):
    """The storage root cannot be written (a path under a file, no permission)."""


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


def _is_local(path: UPath) -> bool:
    return getattr(path, "protocol", "") in ("", "file", "local")


def write_bytes_atomic(path: UPath, data: bytes) -> None:
    """Write ``data`` so readers see the old content or the new, never a torn file.

    Local files go through a temporary sibling and ``os.replace``; on object stores one
    PUT replaces an object atomically.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if _is_local(path):
        target = Path(path.path)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError) and exc.errno == errno.ENOSPC and not exc.filename:
                raise OSError(exc.errno, os.strerror(exc.errno), str(target)) from exc
            raise
    else:
        path.write_bytes(data)


def write_json(path: UPath, payload: Any) -> None:
    """Write JSON atomically (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, json.dumps(payload, indent=2, default=str).encode())


def read_json(path: UPath) -> Any:
    """Read a JSON file."""
    return json.loads(path.read_text())


def write_parquet(frame: pd.DataFrame, path: UPath, schema: Any = None) -> None:
    """Write a frame as parquet (serialised in memory, then written atomically).

    Args:
        frame: The data.
        path: Where.
        schema: A ``pyarrow.Schema`` to write with (keeps column types of empty frames).
    """
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, schema=schema)
    write_bytes_atomic(path, buffer.getvalue())


def read_parquet(path: UPath, **kwargs: Any) -> pd.DataFrame:
    """Read a parquet file from any storage."""
    if _is_local(path):
        return pd.read_parquet(path.path, **kwargs)
    with path.open("rb") as handle:
        return pd.read_parquet(handle, **kwargs)


def upload_dir(local: str | Path, target: UPath) -> None:
    """Copy a local folder's files to ``target`` (created), keeping the relative layout."""
    local = Path(local)
    for file in sorted(p for p in local.rglob("*") if p.is_file()):
        dest = target.joinpath(*file.relative_to(local).parts)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(file.read_bytes())


def download_dir(source: UPath, local: str | Path) -> Path:
    """Copy every file below ``source`` into the local folder ``local``; returns it."""
    local = Path(local)
    local.mkdir(parents=True, exist_ok=True)
    prefix = len(source.parts)
    for file in source.rglob("*"):
        if file.is_file():
            dest = local.joinpath(*file.parts[prefix:])
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(file.read_bytes())
    return local


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


@dataclass(frozen=True)
class Storage:
    """The storage root and the stage-folder protocol on it.

    Attributes:
        root: A ``UPath`` (or Airflow ``ObjectStoragePath``) of the storage root.
        fence: Called before every commit (and by steps before they publish): raises if
            the run may no longer write, e.g. :meth:`forecasting.leases.Lease.renew`
            when another run took over the date. ``None``: no check.
    """

    root: UPath
    fence: Callable[[], None] | None = field(default=None, compare=False)

    @classmethod
    def from_uri(cls, uri: str, **storage_options: Any) -> Storage:
        """Open a root from a URI (``file:///...``, ``/path``, ``s3://bucket/prefix``)."""
        return cls(UPath(uri, **storage_options))

    def fenced(self, fence: Callable[[], None] | None) -> Storage:
        """The same root with ``fence`` checked before every commit."""
        return Storage(self.root, fence)

    def full(self, exc: OSError, what: str, where: UPath | str | None = None) -> StorageFullError:
        """The one-line error for a full disk while ``what`` wrote ``exc.filename`` (or
        something below ``where``)."""
        target = exc.filename or where
        return StorageFullError(
            f"no space left on device: {what} could not write"
            + (f" {target}" if target else "")
            + "; free space on that disk and run the date again"
        )

    def check_writable(self) -> None:
        """Make sure the root exists and takes a file (a run's first step checks it).

        Raises:
            StorageUnavailableError: Naming ``FORECASTING_STORAGE_URI`` and what failed.
        """
        probe = self.root / f".probe-{uuid.uuid4().hex[:12]}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink(missing_ok=True)
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise StorageUnavailableError(
                f"FORECASTING_STORAGE_URI={self.root} is not a writable folder: {why}"
                + (f" ({exc.filename})" if exc.filename else "")
            ) from exc

    def check_fence(self) -> None:
        """Raise if the run may no longer write (see :attr:`fence`)."""
        if self.fence is not None:
            self.fence()

    # ------------------------------------------------------------------ addressing
    def uri(self, path: UPath) -> str:
        """The URI of a path below the root (what tasks pass through XCom)."""
        return str(path)

    def path(self, uri: str) -> UPath:
        """The path of a URI handed over by another task.

        Raises:
            ValueError: If the URI is not below this storage root (a task must never read
                a path only its own worker can see).
        """
        root = str(self.root).rstrip("/")
        if uri != root and not uri.startswith(root + "/"):
            raise ValueError(f"{uri} is not below the storage root {root}")
        relative = uri[len(root) :].strip("/")
        return self.root.joinpath(*relative.split("/")) if relative else self.root

    def run_dir(self, logical_date: date) -> UPath:
        """``runs/ds=<day>``: everything one run date wrote."""
        return self.root / "runs" / f"ds={logical_date.isoformat()}"

    def stage_dir(self, logical_date: date, stage: str, part: str | None = None) -> UPath:
        """Folder of one stage (and shard) of a run date."""
        folder = self.run_dir(logical_date) / stage
        return folder / part if part else folder

    # ------------------------------------------------------------------ protocol
    @contextlib.contextmanager
    def write_stage(
        self, logical_date: date, stage: str, part: str | None = None
    ) -> Iterator[UPath]:
        """Yield a fresh attempt folder; on success, seal and commit it.

        On an exception the attempt folder is removed and the previous commit stays. A
        killed process leaves its attempt behind, uncommitted and without ``_SUCCESS``;
        a later commit of the stage deletes it once it is older than
        :data:`ATTEMPT_GRACE`.

        Raises:
            StorageFullError: When the disk is full (naming the stage and the file).
            StorageConflictError: If the attempt was deleted while the task wrote it.
        """
        folder = self.stage_dir(logical_date, stage, part)
        what = f"stage {stage}{f' {part}' if part else ''} of {logical_date}"
        attempt = folder / _attempt_name()
        try:
            attempt.mkdir(parents=True, exist_ok=True)
            try:
                yield attempt
            except BaseException:
                _remove(attempt)
                raise
            seal(attempt)
            self.check_fence()
            if not (attempt / SUCCESS).exists():
                raise StorageConflictError(
                    f"{what}: {attempt} was deleted while this task wrote it (another run of "
                    "the date cleaned it up); nothing was committed"
                )
            write_json(folder / COMMITTED, {"attempt": attempt.name})
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            raise self.full(exc, what, attempt) from exc
        with contextlib.suppress(OSError):  # clean-up is best effort, never fails a commit
            remove_leftovers(folder, keep=attempt.name)

    def committed(self, logical_date: date, stage: str, part: str | None = None) -> UPath | None:
        """The committed attempt of a stage, or ``None`` if the stage never finished.

        Raises:
            StorageConflictError: If ``_COMMITTED`` names an attempt that is missing.
            PartialOutputError: If it names an attempt without ``_SUCCESS``.
        """
        folder = self.stage_dir(logical_date, stage, part)
        pointer = folder / COMMITTED
        if not pointer.exists():
            return None
        attempt = folder / read_json(pointer)["attempt"]
        if not attempt.exists():
            raise StorageConflictError(
                f"{pointer} names {attempt.name}, which is missing: run the date again "
                f"(`forecasting run --date {logical_date}` or clear the DAG run) to rewrite "
                "the stage"
            )
        return self.checked(attempt)

    def checked(self, attempt: UPath) -> UPath:
        """``attempt`` if it was sealed with ``_SUCCESS``.

        Raises:
            PartialOutputError: For an attempt that did not finish.
        """
        if not (attempt / SUCCESS).exists():
            raise PartialOutputError(
                f"{attempt} has no {SUCCESS}: it was written by a task that did not finish "
                "and is not used"
            )
        return attempt

    def open(self, uri: str) -> UPath:
        """Resolve a URI handed over by another task -- an attempt folder or a file in one --
        and check that its attempt was sealed."""
        path = self.path(uri)
        attempt = attempt_of(path)
        if attempt is None:
            raise ValueError(f"{uri} is not inside a task's output folder")
        self.checked(attempt)
        return path

    def verify(self, logical_date: date, repair: bool = False) -> list[str]:
        """Check every ``_COMMITTED`` pointer of a run date.

        A pointer must name an attempt that exists and was sealed. A broken one can only
        come from an older version of this code (before clean-up waited for
        :data:`ATTEMPT_GRACE`) or from damage to the store.

        Args:
            logical_date: The run date.
            repair: Remove each broken pointer, so the stage counts as never finished and
                the next run of the date writes it again (every run re-runs every stage).

        Returns:
            One line per broken pointer (empty: consistent).
        """
        base = self.run_dir(logical_date)
        if not base.exists():
            return []
        problems = []
        for pointer in sorted(base.rglob(COMMITTED), key=str):
            name = read_json(pointer).get("attempt", "")
            attempt = pointer.parent / name
            if not attempt.exists():
                problem = f"{pointer} names {name}, which is missing"
            elif not (attempt / SUCCESS).exists():
                problem = f"{pointer} names {name}, which has no {SUCCESS}"
            else:
                continue
            if repair:
                pointer.unlink(missing_ok=True)
                problem += ": pointer removed, the stage runs again"
            problems.append(problem)
        return problems
