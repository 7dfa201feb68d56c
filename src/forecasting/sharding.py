"""Catalogue shards: the handful of partitions the DAG fans out over.

A SKU belongs to shard ``crc32(utf-8 bytes of the SKU) mod n``: stable across runs,
machines and Python versions, and balanced for real SKU codes. All locations of a SKU are
in the same shard. Each shard is processed vectorised inside one task; there is never a
task per series.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "MAX_AUTO_SHARDS",
    "SERIES_PER_SHARD",
    "Shard",
    "resolve_shard_count",
    "shard_of",
    "shard_of_many",
]

#: With ``shards`` unset, one shard per this many series (upper bound from the catalogue).
SERIES_PER_SHARD = 5_000
#: With ``shards`` unset, never more shards than this.
MAX_AUTO_SHARDS = 16


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard index {self.index} outside 0..{self.count - 1}")

    @property
    def name(self) -> str:
        """Folder name below a stage, e.g. ``shard=0-of-4``."""
        return f"shard={self.index}-of-{self.count}"

    def to_dict(self) -> dict[str, int]:
        """JSON-ready form (what the DAG maps over)."""
        return {"index": self.index, "count": self.count}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shard:
        """Inverse of :meth:`to_dict`."""
        return cls(int(data["index"]), int(data["count"]))

    @classmethod
    def all(cls, count: int) -> list[Shard]:
        """Every shard of a partition into ``count``."""
        return [cls(i, count) for i in range(count)]


def shard_of(sku: str, count: int) -> int:
    """Shard of one SKU."""
    return zlib.crc32(sku.encode("utf-8")) % count


def shard_of_many(skus: Iterable[str], count: int) -> np.ndarray:
    """Shard of each SKU (vectorised over the unique values)."""
    values = np.asarray(list(skus) if not isinstance(skus, np.ndarray) else skus, dtype=object)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    uniques, inverse = np.unique(values.astype(str), return_inverse=True)
    codes = np.fromiter((shard_of(s, count) for s in uniques), dtype=np.int64, count=len(uniques))
    return codes[inverse]


def resolve_shard_count(requested: int | None, series_upper_bound: int) -> int:
    """The number of shards: ``requested``, or one per :data:`SERIES_PER_SHARD` series."""
    if requested is not None:
        return int(requested)
    return int(min(MAX_AUTO_SHARDS, max(1, math.ceil(series_upper_bound / SERIES_PER_SHARD))))
