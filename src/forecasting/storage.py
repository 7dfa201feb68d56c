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
fresh ``attempt=<id>`` folder, then ``_SUCCESS`` listing them, then the ``_COMMITTED``
pointer (one small object, replaced in one write). Readers only open attempts that have
``_SUCCESS``, so a partial folder left by a killed task is never trusted; the next commit
of the same stage deletes every other attempt folder, including such leftovers.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from upath import UPath

__all__ = [
    "PartialOutputError",
    "Storage",
    "download_dir",
    "read_json",
    "read_parquet",
    "remove_leftovers",
    "upload_dir",
    "write_bytes_atomic",
    "write_json",
    "write_parquet",
]

log = logging.getLogger(__name__)

SUCCESS = "_SUCCESS"
COMMITTED = "_COMMITTED"
ATTEMPT_PREFIX = "attempt="


class PartialOutputError(RuntimeError):
    """An output folder without ``_SUCCESS``: written by a task that did not finish."""


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
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
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


def remove_leftovers(folder: UPath, keep: str = "") -> int:
    """Delete what killed writers left in ``folder``: other attempt folders and temporary
    files of interrupted atomic writes. Returns how many were removed."""
    removed = 0
    for other in folder.iterdir():
        stale_attempt = other.name.startswith(ATTEMPT_PREFIX) and other.name != keep
        if stale_attempt or ".tmp-" in other.name:
            if other.is_dir():
                _remove(other)
            else:
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
    """

    root: UPath

    @classmethod
    def from_uri(cls, uri: str, **storage_options: Any) -> Storage:
        """Open a root from a URI (``file:///...``, ``/path``, ``s3://bucket/prefix``)."""
        return cls(UPath(uri, **storage_options))

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
        the next commit of the stage deletes it.
        """
        folder = self.stage_dir(logical_date, stage, part)
        attempt = folder / f"{ATTEMPT_PREFIX}{uuid.uuid4().hex[:12]}"
        attempt.mkdir(parents=True, exist_ok=True)
        try:
            yield attempt
        except BaseException:
            _remove(attempt)
            raise
        files = {
            "/".join(p.parts[len(attempt.parts) :]): p.stat().st_size
            for p in attempt.rglob("*")
            if p.is_file()
        }
        write_json(attempt / SUCCESS, {"files": files})
        write_json(folder / COMMITTED, {"attempt": attempt.name})
        remove_leftovers(folder, keep=attempt.name)

    def committed(self, logical_date: date, stage: str, part: str | None = None) -> UPath | None:
        """The committed attempt of a stage, or ``None`` if the stage never finished."""
        folder = self.stage_dir(logical_date, stage, part)
        pointer = folder / COMMITTED
        if not pointer.exists():
            return None
        return self.checked(folder / read_json(pointer)["attempt"])

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
        attempt = path
        while not attempt.name.startswith(ATTEMPT_PREFIX):
            if attempt.parent == attempt:
                raise ValueError(f"{uri} is not inside a task's output folder")
            attempt = attempt.parent
        self.checked(attempt)
        return path
