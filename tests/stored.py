"""Every byte a run stored, for the privacy tests' searches."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pandas as pd


def stored_bytes(root: Path) -> list[tuple[Path, bytes]]:
    """Every file below ``root``, parquet and zip/gzip members decompressed too."""
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        found.append((path, data))
        if path.suffix == ".parquet":
            frame = pd.read_parquet(io.BytesIO(data))
            found.append((path, frame.to_csv().encode()))
        elif zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                found += [(path, archive.read(n)) for n in archive.namelist()]
        elif data[:2] == b"\x1f\x8b":
            found.append((path, gzip.decompress(data)))
    return found
