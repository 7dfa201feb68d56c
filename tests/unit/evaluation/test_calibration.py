"""The interval calibrator's factors: the counting shortcut gives exactly what the direct
(grid x rows) computation gives, ties of integer demand included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.evaluation.calibration import _GRID, IntervalCalibrator


def direct(frame: pd.DataFrame, coverage: float) -> tuple[float, float]:
    """The definition, written out: shares below/above for every grid factor at once."""
    y = frame["y"].to_numpy(float)
    p10, p50, p90 = (frame[c].to_numpy(float) for c in ("p10", "p50", "p90"))
    tail = (1.0 - coverage) / 2.0
    penalty = 1e-9 * np.abs(np.log(_GRID))
    lo = np.clip(p50[None, :] - _GRID[:, None] * (p50 - p10)[None, :], 0.0, None)
    a = float(_GRID[np.argmin(np.abs((y[None, :] < lo).mean(axis=1) - tail) + penalty)])
    below_a = float((y < np.clip(p50 - a * (p50 - p10), 0.0, None)).mean())
    hi = p50[None, :] + _GRID[:, None] * (p90 - p50)[None, :]
    want = max(1.0 - coverage - below_a, 0.0)
    b = float(_GRID[np.argmin(np.abs((y[None, :] > hi).mean(axis=1) - want) + penalty)])
    return a, b


@pytest.mark.parametrize("kind", ["integer", "continuous", "intermittent"])
def test_factors_equal_the_direct_computation(kind: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(1, 2000))
        if kind == "integer":  # seasonal-naive-like: integer quantiles, many exact ties
            y = rng.poisson(rng.uniform(0.1, 20), n).astype(float)
            p50 = np.round(rng.gamma(2, 3, n))
            p10 = np.maximum(p50 - rng.integers(0, 4, n), 0)
            p90 = p50 + rng.integers(0, 6, n)
        elif kind == "continuous":
            y = rng.gamma(1, 5, n)
            p50 = rng.gamma(2, 3, n)
            p10, p90 = p50 * rng.uniform(0, 1, n), p50 * rng.uniform(1, 3, n)
        else:  # mostly zeros: fewer than 10 % can fall below a non-negative P10
            y = np.where(rng.random(n) < 0.6, 0.0, rng.poisson(3, n))
            p50 = rng.uniform(0, 3, n)
            p10, p90 = np.zeros(n), p50 + rng.uniform(0, 4, n)
        frame = pd.DataFrame({"y": y, "p10": p10, "p50": p50, "p90": p90})
        coverage = float(rng.choice([0.8, 0.9]))
        fitted = IntervalCalibrator.fit(frame, coverage=coverage)
        assert (fitted.lower, fitted.upper) == direct(frame, coverage)


def test_too_narrow_intervals_are_widened_to_the_target_coverage() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(100.0, 10.0, 20_000)
    frame = pd.DataFrame({"y": y, "p50": 100.0, "p10": 97.0, "p90": 103.0})
    calibrated = IntervalCalibrator.fit(frame).apply(frame)
    inside = ((calibrated["p10"] <= y) & (y <= calibrated["p90"])).mean()
    assert inside == pytest.approx(0.8, abs=0.01)
