"""The storage root and the stage-folder protocol on it (see :mod:`forecasting.storage`)."""

from __future__ import annotations

import contextlib
import errno
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upath import UPath

from forecasting.errors import NonRetryableError
from forecasting.storage.attempts import (
    COMMITTED,
    SUCCESS,
    _attempt_name,
    _remove,
    attempt_of,
    remove_leftovers,
    seal,
)
from forecasting.storage.files import read_json, write_json

__all__ = [
    "PartialOutputError",
    "Storage",
    "StorageConflictError",
    "StorageFullError",
    "StorageUnavailableError",
]


class PartialOutputError(RuntimeError):
    """An output folder without ``_SUCCESS``: written by a task that did not finish."""


class StorageConflictError(NonRetryableError):
    """Storage changed under a task: its attempt was deleted while it wrote it, or a
    ``_COMMITTED`` pointer names an attempt that is not there."""


class StorageFullError(NonRetryableError):
    """The storage's disk is full: names the stage and the file that could not be written."""


class StorageUnavailableError(NonRetryableError):
    """The storage root cannot be written (a path under a file, no permission)."""


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
