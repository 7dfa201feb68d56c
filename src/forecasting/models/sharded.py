"""One model per catalogue shard, served as one forecaster.

The DAG trains the chosen candidate on each shard of the catalogue (see
:mod:`forecasting.sharding`) in parallel tasks; the registered model routes every series
to the member fitted on its shard, by the same SKU hash. Shop-wide features are computed
over the series a member sees, exactly as in training.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, overload

import numpy as np
import pandas as pd

from forecasting.features.panel import Panel
from forecasting.models.base import FORECAST_COLUMNS, Forecaster, load_forecaster
from forecasting.sharding import shard_of_many

__all__ = ["ShardedForecaster"]


class _SavedMembers(Sequence[Forecaster]):
    """A saved model's members, each loaded from ``shard=<k>/`` on first use: a shard's
    scoring task needs one member, not all of them (with Keras networks inside, loading
    every member took 10 s per task at six shards)."""

    def __init__(self, folder: Path, count: int) -> None:
        self._folder = folder
        self._loaded: list[Forecaster | None] = [None] * count

    def __len__(self) -> int:
        return len(self._loaded)

    @property
    def loaded(self) -> list[int]:
        """Shards whose member was loaded so far."""
        return [k for k, m in enumerate(self._loaded) if m is not None]

    @overload
    def __getitem__(self, k: int) -> Forecaster: ...

    @overload
    def __getitem__(self, k: slice) -> Sequence[Forecaster]: ...

    def __getitem__(self, k: int | slice) -> Forecaster | Sequence[Forecaster]:
        if isinstance(k, slice):
            return [self[i] for i in range(len(self))[k]]
        member = self._loaded[k]
        if member is None:
            member = self._loaded[k] = load_forecaster(self._folder / f"shard={k}")
        return member


class ShardedForecaster(Forecaster):
    """Routes each series to the member fitted on its shard.

    Args:
        members: One fitted forecaster per shard, in shard order.
        name: Candidate name every member was chosen under (e.g. ``"hgb"``).
    """

    family: ClassVar[str] = "sharded"

    def __init__(self, members: Sequence[Forecaster], name: str = "") -> None:
        self.members = members
        self.name = name

    @property
    def n_shards(self) -> int:
        """Number of shards (members)."""
        return len(self.members)

    def fit(self, panel: Panel) -> ShardedForecaster:
        """Fit every member on its shard's series."""
        shards = self._shards(panel)
        for k, member in enumerate(self.members):
            rows = np.flatnonzero(shards == k)
            if len(rows):
                member.fit(panel.subset(rows))
        self.n_series_fit_ = panel.n_series
        return self

    def _shards(self, panel: Panel) -> np.ndarray:
        if "sku" not in panel.ids.columns:
            raise ValueError("a sharded model needs the sku of every series in its input")
        return shard_of_many(panel.ids["sku"].to_numpy(), self.n_shards)

    def predict(self, panel: Panel, horizon: int, series: np.ndarray | None = None) -> pd.DataFrame:
        """Forecast each series with its shard's member (output in the input's series order)."""
        shards = self._shards(panel)
        wanted = np.arange(panel.n_series) if series is None else np.asarray(series)
        if wanted.dtype == bool:
            wanted = np.flatnonzero(wanted)
        parts = []
        for k in range(self.n_shards):  # members of shards without series stay unloaded
            rows = np.flatnonzero(shards == k)
            if not len(rows):
                continue
            chosen = np.flatnonzero(np.isin(rows, wanted))
            if not len(chosen):
                continue
            parts.append(self.members[k].predict(panel.subset(rows), horizon, series=chosen))
        if not parts:
            return pd.DataFrame(columns=list(FORECAST_COLUMNS))
        out = pd.concat(parts, ignore_index=True)
        order = pd.Index(panel.ids["unique_id"]).get_indexer(out["unique_id"])
        return out.iloc[np.lexsort((out["horizon"].to_numpy(), order))].reset_index(drop=True)

    @property
    def uses_exogenous(self) -> bool:  # type: ignore[override]
        return any(m.uses_exogenous for m in self.members)

    def save(self, folder: str | Path) -> Path:
        """Each member in ``shard=<k>/``; the shard count and name in ``forecaster.json``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for k, member in enumerate(self.members):
            member.save(folder / f"shard={k}")
        meta = {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "family": self.family,
            "name": self.name,
            "shards": self.n_shards,
            "n_series_fit": int(getattr(self, "n_series_fit_", 0)),
        }
        (folder / "forecaster.json").write_text(json.dumps(meta, indent=2))
        return folder

    @classmethod
    def _load(cls, folder: Path) -> ShardedForecaster:
        meta = json.loads((folder / "forecaster.json").read_text())
        members = _SavedMembers(folder, int(meta["shards"]))
        model = cls(members, meta.get("name", ""))
        # The fitted marker; a model saved before the count was written gets 0 rather than
        # loading every member to count their series (the count informs, it decides nothing).
        model.n_series_fit_ = int(meta.get("n_series_fit", 0))
        return model

    def describe(self) -> dict[str, Any]:
        """Shard count and each member's description."""
        return {
            "family": self.family,
            "name": self.name,
            "shards": self.n_shards,
            "members": [m.describe() for m in self.members],
        }
