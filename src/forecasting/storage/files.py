"""File helpers for any storage root (a local folder or an object store): atomic writes,
JSON and parquet, and copying folders in and out."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from upath import UPath

__all__ = [
    "download_dir",
    "read_json",
    "read_parquet",
    "upload_dir",
    "write_bytes_atomic",
    "write_json",
    "write_parquet",
]


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
