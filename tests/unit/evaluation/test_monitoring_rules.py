"""The decay rule and the accuracy aggregates on hand-made accuracy rows."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from forecasting.config import MonitoringPolicy
from forecasting.monitoring import judge_decay, summarise_accuracy

DAY = date(2024, 7, 10)


def rows(days: int, level: float, width: float, version: str = "3") -> pd.DataFrame:
    rng = np.random.default_rng(0)
    out = []
    for k in range(days):
        target = DAY - timedelta(days=k)
        actual = rng.poisson(10.0, 40).astype(float)
        out.append(
            pd.DataFrame(
                {
                    "run_date": target - timedelta(days=1),
                    "target_date": target,
                    "lag_days": 1,
                    "sku": [f"S{i % 20}" for i in range(40)],
                    "location_id": ["a" if i < 20 else "b" for i in range(40)],
                    "category": ["x" if i % 2 else "y" for i in range(40)],
                    "actual": actual,
                    "forecast": 10.0 * level,
                    "p10": 10.0 * level - width,
                    "p50": 10.0 * level,
                    "p90": 10.0 * level + width,
                    "scale_mae1": 4.0,
                    "scale_mse1": 20.0,
                    "scale_mae7": 4.0,
                    "model_version": version,
                }
            )
        )
    return pd.concat(out, ignore_index=True)


POLICY = MonitoringPolicy(min_live_days=5)


def test_no_verdict_before_enough_days() -> None:
    verdict = judge_decay(rows(4, 3.0, 4.0), "3", 0.7, POLICY)
    assert not verdict.decayed and "no verdict" in verdict.reason and verdict.live_days == 4


def test_a_model_on_target_holds_up_and_a_shifted_level_decays() -> None:
    good = judge_decay(rows(10, 1.0, 4.0), "3", 0.75, POLICY)
    assert not good.decayed, good.reason
    bad = judge_decay(rows(10, 0.4, 4.0), "3", 0.75, POLICY)
    assert bad.decayed and "RMSSE" in bad.reason
    # Only the champion's own forecasts count.
    other = judge_decay(rows(10, 0.4, 4.0, version="2"), "3", 0.75, POLICY)
    assert not other.decayed and other.live_days == 0


def test_intervals_too_narrow_decay_even_with_a_good_point_forecast() -> None:
    verdict = judge_decay(rows(10, 1.0, 0.5), "3", 0.75, POLICY)
    assert verdict.decayed and "coverage" in verdict.reason and "RMSSE" not in verdict.reason


def test_summary_by_dimension() -> None:
    frame = rows(7, 1.2, 4.0)
    summary = summarise_accuracy(frame, DAY, DAY - timedelta(days=6))
    assert set(summary["dimension"]) == {"all", "lag", "category", "location"}
    overall = summary.loc[summary["dimension"] == "all"].iloc[0]
    expected_bias = (frame["forecast"] - frame["actual"]).sum() / frame["actual"].sum()
    assert overall["n_rows"] == 280 and overall["bias"] == pytest.approx(expected_bias)
    wape = (frame["forecast"] - frame["actual"]).abs().sum() / frame["actual"].sum()
    assert overall["wape"] == pytest.approx(wape)
    assert set(summary.loc[summary["dimension"] == "category", "value"]) == {"x", "y"}
