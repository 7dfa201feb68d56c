"""Where task outputs live: one folder per logical date, written atomically.

Tasks hand each other these folder paths (strings), never data. Paths are derived from
the logical date only, so a re-run of a date overwrites its own partition.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

__all__ = ["atomic_dir", "partition_dir"]


def partition_dir(root: str | Path, logical_date: date, stage: str) -> Path:
    """``<root>/ds=<YYYY-MM-DD>/<stage>`` for a logical date and pipeline stage."""
    return Path(root) / f"ds={logical_date.isoformat()}" / stage


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces ``target``.

    Readers never see a half-written partition: either the old folder or the complete
    new one. On error the temporary folder is removed and ``target`` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)
