"""The decay rule and the accuracy aggregates on hand-made accuracy rows."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from forecasting.config import MonitoringPolicy
from forecasting.features.panel import Panel
from forecasting.monitoring import (
    DecayVerdict,
    accuracy_rows,
    accuracy_stats,
    judge_decay,
    live_days,
    panel_actuals,
    summarise_accuracy,
    unjoined_rows,
)

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


def judge(frame: pd.DataFrame, version: str, backtest_rmsse: float) -> DecayVerdict:
    days = live_days(frame).get(version, 0)
    return judge_decay(accuracy_stats(frame), days, version, backtest_rmsse, POLICY)


def test_no_verdict_before_enough_days() -> None:
    verdict = judge(rows(4, 3.0, 4.0), "3", 0.7)
    assert not verdict.decayed and "no verdict" in verdict.reason and verdict.live_days == 4


def test_a_model_on_target_holds_up_and_a_shifted_level_decays() -> None:
    good = judge(rows(10, 1.0, 4.0), "3", 0.75)
    assert not good.decayed, good.reason
    bad = judge(rows(10, 0.4, 4.0), "3", 0.75)
    assert bad.decayed and "RMSSE" in bad.reason
    # Only the champion's own forecasts count.
    other = judge(rows(10, 0.4, 4.0, version="2"), "3", 0.75)
    assert not other.decayed and other.live_days == 0


def test_intervals_too_narrow_decay_even_with_a_good_point_forecast() -> None:
    verdict = judge(rows(10, 1.0, 0.5), "3", 0.75)
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


def tiny_panel() -> Panel:
    dates = pd.date_range("2024-07-01", periods=5)
    y = np.array([[1.0, 2.0, np.nan, 4.0, np.nan], [0.0, 5.0, 6.0, 7.0, np.nan]])
    ids = pd.DataFrame({"unique_id": ["A@x", "B@x"], "sku": ["A", "B"], "location_id": "x"})
    zeros = np.zeros_like(y)
    return Panel(ids, dates, y, zeros, zeros, pd.DataFrame(index=dates), n_history=4)


def test_panel_actuals_tell_excluded_days_from_keys_the_panel_lacks() -> None:
    keys = pd.DataFrame(
        {
            "target_date": [date(2024, 7, 2), date(2024, 7, 3), date(2024, 7, 5), date(2024, 7, 2)],
            "sku": ["B", "A", "A", "C"],
            "location_id": "x",
        }
    )
    actual, found = panel_actuals(keys, tiny_panel())
    # 07-03 of A is an excluded day (NaN, but held); 07-05 is the future; C is not there.
    assert found.tolist() == [True, True, False, False]
    assert actual[0] == 5.0 and np.isnan(actual[1:]).all()


def test_every_published_forecast_gets_one_row_even_without_a_panel() -> None:
    published = pd.DataFrame(
        {
            "run_date": [date(2024, 7, 1)] * 3,
            "sku": ["A", "B", "Z"],
            "location_id": ["x"] * 3,
            "target_date": [date(2024, 7, 3)] * 3,
            "forecast": 3.0,
            "p10": 1.0,
            "p50": 3.0,
            "p90": 5.0,
            "model_version": "1",
        }
    )
    categories = pd.Series({"A": "toys", "B": "toys"})
    joined = accuracy_rows(published, tiny_panel(), categories)
    assert sorted(joined["sku"]) == ["A", "B"] and joined["lag_days"].tolist() == [2, 2]
    extra = unjoined_rows(published, joined, categories)
    # Z left the catalogue: its forecast still has its row, with no actual.
    assert extra["sku"].tolist() == ["Z"] and extra["actual"].isna().all()
    assert extra["category"].tolist() == ["unknown"] and extra["lag_days"].tolist() == [2]
    assert unjoined_rows(published, pd.concat([joined, extra]), categories).empty
