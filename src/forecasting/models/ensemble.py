"""A weighted average of fitted forecasters (quantile averaging per level)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from forecasting.features.direct import Rows
from forecasting.features.panel import Panel
from forecasting.models.base import Forecaster, Prediction, load_forecaster

__all__ = ["EnsembleForecaster"]


class EnsembleForecaster(Forecaster):
    """Average of member forecasts: point and each quantile level, with fixed weights.

    Args:
        members: ``(name, forecaster)`` pairs.
        weights: One non-negative weight per member (``None``: equal weights).
    """

    family: ClassVar[str] = "ensemble"

    def __init__(
        self, members: list[tuple[str, Forecaster]], weights: list[float] | None = None
    ) -> None:
        self.members = members
        self.weights = weights

    def _weights(self) -> np.ndarray:
        w = np.ones(len(self.members)) if self.weights is None else np.asarray(self.weights, float)
        if len(w) != len(self.members) or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be non-negative, one per member, not all zero")
        return w / w.sum()

    def _fit(self, panel: Panel) -> None:
        self._weights()
        for _, member in self.members:
            member.fit(panel)

    def _predict(self, panel: Panel, rows: Rows) -> Prediction:
        acc = np.zeros((len(rows), 4))
        for w, (_, member) in zip(self._weights(), self.members, strict=True):
            p = member._predict(panel, rows).clean()
            acc += w * np.column_stack([p.forecast, p.p10, p.p50, p.p90])
        return Prediction(acc[:, 0], acc[:, 1], acc[:, 2], acc[:, 3])

    def save(self, folder: str | Path) -> Path:
        """Each member in its own sub-folder; names and weights in ``forecaster.json``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, member in self.members:
            member.save(folder / name)
        meta = {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "family": self.family,
            "members": [name for name, _ in self.members],
            "weights": None if self.weights is None else list(self.weights),
        }
        (folder / "forecaster.json").write_text(json.dumps(meta, indent=2))
        return folder

    @classmethod
    def _load(cls, folder: Path) -> EnsembleForecaster:
        meta = json.loads((folder / "forecaster.json").read_text())
        members = [(name, load_forecaster(folder / name)) for name in meta["members"]]
        model = cls(members, meta["weights"])
        model.n_series_fit_ = max(getattr(m, "n_series_fit_", 0) for _, m in members)
        return model

    def describe(self) -> dict[str, Any]:
        """Member descriptions and weights."""
        return {
            "family": self.family,
            "weights": self._weights().tolist(),
            "members": {name: m.describe() for name, m in self.members},
        }
