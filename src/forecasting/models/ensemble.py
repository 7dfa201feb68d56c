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
    """Weighted average of member forecasts: the point forecast over all members, each
    quantile level over the members named in ``quantile_members``.

    Some members are good point forecasters with crude intervals (linear regression's
    quantiles come from one global residual distribution); they can add to the point
    forecast without blurring the quantiles.

    Args:
        members: ``(name, forecaster)`` pairs.
        weights: One non-negative weight per member (``None``: equal weights).
        quantile_members: Names of the members whose quantiles are averaged (``None``: all).
    """

    family: ClassVar[str] = "ensemble"

    def __init__(
        self,
        members: list[tuple[str, Forecaster]],
        weights: list[float] | None = None,
        quantile_members: list[str] | None = None,
    ) -> None:
        self.members = members
        self.weights = weights
        self.quantile_members = quantile_members

    def min_history_days(self) -> int:
        """What its neediest member needs."""
        return max(member.min_history_days() for _, member in self.members)

    def check_params(self, name: str | None = None) -> EnsembleForecaster:
        """Check the weights and quantile members (each member was checked when built)."""
        try:
            self._weights()
            self._quantile_mask()
        except ValueError as exc:
            raise ValueError(f"{name or self.family}: {exc}") from exc
        return self

    def _weights(self) -> np.ndarray:
        w = np.ones(len(self.members)) if self.weights is None else np.asarray(self.weights, float)
        if len(w) != len(self.members) or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be non-negative, one per member, not all zero")
        return w / w.sum()

    def _fit(self, panel: Panel) -> None:
        self._weights()
        for _, member in self.members:
            member.fit(panel)

    def _quantile_mask(self) -> np.ndarray:
        names = [name for name, _ in self.members]
        if self.quantile_members is None:
            return np.ones(len(names), dtype=bool)
        unknown = set(self.quantile_members) - set(names)
        if unknown or not self.quantile_members:
            raise ValueError(f"quantile_members must name members, got {self.quantile_members}")
        return np.array([n in self.quantile_members for n in names])

    def _predict(self, panel: Panel, rows: Rows) -> Prediction:
        weights = self._weights()
        in_q = self._quantile_mask()
        q_weights = np.where(in_q, weights, 0.0) / weights[in_q].sum()
        point = np.zeros(len(rows))
        quantiles = np.zeros((len(rows), 3))
        for w, qw, (_, member) in zip(weights, q_weights, self.members, strict=True):
            p = member._predict(panel, rows).clean()
            point += w * p.forecast
            quantiles += qw * np.column_stack([p.p10, p.p50, p.p90])
        return Prediction(point, quantiles[:, 0], quantiles[:, 1], quantiles[:, 2])

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
            "quantile_members": self.quantile_members,
        }
        (folder / "forecaster.json").write_text(json.dumps(meta, indent=2))
        return folder

    @classmethod
    def _load(cls, folder: Path) -> EnsembleForecaster:
        meta = json.loads((folder / "forecaster.json").read_text())
        members = [(name, load_forecaster(folder / name)) for name in meta["members"]]
        model = cls(members, meta["weights"], meta.get("quantile_members"))
        model.n_series_fit_ = max(getattr(m, "n_series_fit_", 0) for _, m in members)
        return model

    def describe(self) -> dict[str, Any]:
        """Member descriptions and weights."""
        return {
            "family": self.family,
            "weights": self._weights().tolist(),
            "quantile_members": self.quantile_members,
            "members": {name: m.describe() for name, m in self.members},
        }
