"""Count distributions for quantiles around a point forecast."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

__all__ = ["Dispersion", "fit_dispersion", "nbinom_quantiles"]

_MAX_PHI = 50.0


@dataclass
class Dispersion:
    """Negative-binomial dispersion ``phi`` (variance = mean + phi * mean**2) per series.

    Attributes:
        pooled: Dispersion of all series together (used for unseen series).
        by_series: ``unique_id -> phi``.
    """

    pooled: float
    by_series: dict[str, float] = field(default_factory=dict)

    def lookup(self, series_ids: np.ndarray) -> np.ndarray:
        """Dispersion of each row's series (pooled for series not seen in training)."""
        return np.array([self.by_series.get(s, self.pooled) for s in series_ids], dtype=float)


def fit_dispersion(
    series_ids: np.ndarray, y: np.ndarray, mean: np.ndarray, prior_rows: int = 50
) -> Dispersion:
    """Method-of-moments dispersion from residuals, shrunk towards the pooled value.

    For each series, ``phi = sum((y - mean)**2 - mean) / sum(mean**2)``, estimated with
    ``prior_rows`` rows' worth of pooled evidence added, clipped to ``[0, 50]``.

    Args:
        series_ids: Series of each row.
        y: Actual demand (units).
        mean: Predicted mean demand (units).
        prior_rows: Strength of the shrinkage towards the pooled dispersion.
    """
    excess = (y - mean) ** 2 - mean
    square = mean**2
    pooled = float(np.clip(excess.sum() / max(square.sum(), 1e-12), 0.0, _MAX_PHI))
    uniques, inverse = np.unique(series_ids, return_inverse=True)
    n = np.bincount(inverse).astype(float)
    ex = np.bincount(inverse, weights=excess)
    sq = np.bincount(inverse, weights=square)
    mean_sq = sq / np.maximum(n, 1)
    phi = (ex + pooled * prior_rows * mean_sq) / np.maximum(sq + prior_rows * mean_sq, 1e-12)
    phi = np.clip(phi, 0.0, _MAX_PHI)
    return Dispersion(pooled, dict(zip((str(u) for u in uniques), phi.tolist(), strict=True)))


def nbinom_quantiles(mean: np.ndarray, phi: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """Quantiles of negative binomials (Poisson where ``phi`` is ~0), shape ``(rows, levels)``."""
    mean = np.maximum(np.asarray(mean, float), 0.0)
    phi = np.asarray(phi, float)
    out = np.zeros((len(mean), len(levels)))
    positive = mean > 0
    poisson = positive & (phi < 1e-6)
    negbin = positive & ~poisson
    for j, level in enumerate(levels):
        if poisson.any():
            out[poisson, j] = stats.poisson.ppf(level, mean[poisson])
        if negbin.any():
            r = 1.0 / phi[negbin]
            out[negbin, j] = stats.nbinom.ppf(level, r, r / (r + mean[negbin]))
    return out
