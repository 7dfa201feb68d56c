"""Lead-time quantiles: totals, a model of the aggregate that keeps its coverage on a
window it was not fitted on, and the order-up-to helper."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.evaluation.leadtime import (
    LEADTIME_LEVELS,
    LeadTimeCalibrator,
    leadtime_coverage,
    leadtime_totals,
    level_column,
    order_up_to_level,
)


def windows(n_series: int, n_windows: int, seed: int = 0, level_sd: float = 0.3) -> pd.DataFrame:
    """Daily forecasts (the true mean) and Poisson actuals whose level is off by a
    series-and-window factor shared by all 28 days: days are not independent."""
    rng = np.random.default_rng(seed)
    rows = []
    for w in range(n_windows):
        mean = rng.gamma(2.0, 3.0, n_series)
        factor = rng.lognormal(0.0, level_sd, n_series)
        for h in range(1, 29):
            rows.append(
                pd.DataFrame(
                    {
                        "unique_id": [f"s{i}" for i in range(n_series)],
                        "window": w,
                        "horizon": h,
                        "forecast": mean,
                        "y": rng.poisson(mean * factor).astype(float),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_totals_sum_the_first_days_and_drop_totals_with_a_missing_day() -> None:
    frame = pd.DataFrame(
        {
            "unique_id": ["a"] * 28 + ["b"] * 28,
            "horizon": list(range(1, 29)) * 2,
            "forecast": [1.0] * 56,
            "y": [2.0] * 28 + [2.0] * 10 + [np.nan] + [2.0] * 17,
        }
    )
    totals = leadtime_totals(frame).set_index(["unique_id", "days"])
    assert totals.loc[("a", 7), "m"] == 7 and totals.loc[("a", 28), "actual"] == 56
    assert totals.loc[("b", 7), "actual"] == 14
    assert np.isnan(totals.loc[("b", 14), "actual"])  # day 11 excluded (e.g. a stock-out)


def test_quantiles_of_the_total_keep_coverage_on_a_later_window() -> None:
    totals = leadtime_totals(windows(600, 4))
    coverage = leadtime_coverage(totals, first_scored_window=2)
    for q in LEADTIME_LEVELS:
        assert coverage[level_column(q)].to_numpy() == pytest.approx(q, abs=0.04), coverage
    # Summing daily Poisson quantiles as if days were independent covers far less: the
    # shared level error is what a model of the aggregate must capture.
    calibrator = LeadTimeCalibrator.fit(totals.loc[totals["window"] < 3])
    last = calibrator.quantiles(totals.loc[(totals["window"] == 3) & (totals["days"] == 28)])
    independent_p90 = last["m"] + 1.2816 * np.sqrt(last["m"])
    assert (last["actual"] <= independent_p90).mean() < 0.75
    assert (last["actual"] <= last["p90"]).mean() == pytest.approx(0.9, abs=0.04)


def test_coverage_of_counts_brackets_the_level_with_the_share_below() -> None:
    """A total that is 0 seven times in ten: its calibrated median is 0, which covers 70 %
    of totals (ties count) while none lie strictly below it. The level must lie between
    the two shares, as it does for a calibrated quantile of any count."""
    rng = np.random.default_rng(3)
    n = 2000
    totals = pd.DataFrame(
        {
            "unique_id": np.tile(np.arange(n), 2),
            "window": np.repeat([0, 1], n),
            "days": 7,
            "m": 0.357,
            "actual": rng.poisson(0.357, 2 * n).astype(float),  # P(0) = 0.70
        }
    )
    coverage = leadtime_coverage(totals, first_scored_window=1).iloc[0]
    assert coverage["p50_below"] == 0.0
    assert coverage["p50"] == pytest.approx(0.70, abs=0.03)
    for q in LEADTIME_LEVELS:
        below, at_or_below = coverage[f"{level_column(q)}_below"], coverage[level_column(q)]
        assert below <= at_or_below
        assert below - 0.03 <= q <= at_or_below + 0.03, coverage


def test_quantiles_are_ordered_non_negative_and_survive_json() -> None:
    totals = leadtime_totals(windows(300, 2, seed=1))
    calibrator = LeadTimeCalibrator.fit(totals)
    again = LeadTimeCalibrator(**calibrator.to_dict())
    future = totals.assign(m=np.r_[np.zeros(10), totals["m"].to_numpy()[10:]]).drop(
        columns="actual"
    )
    out = again.quantiles(future)
    values = out[[level_column(q) for q in LEADTIME_LEVELS]].to_numpy()
    assert (values >= 0).all() and (np.diff(values, axis=1) >= 0).all()
    assert set(out["days"]) == {7, 14, 28}


def test_order_up_to_level_and_safety_stock() -> None:
    lead = pd.DataFrame(
        {"p50": [10.0, 0.0], "p80": [12, 0], "p90": [14, 1], "p95": [15.2, 2], "p99": [20, 3]}
    )
    out = order_up_to_level(lead, 0.95, on_hand=pd.Series([4.0, 5.0]))
    assert out["order_up_to"].tolist() == [16, 2]
    assert out["safety_stock"].tolist() == [6, 2]
    assert out["order_qty"].tolist() == [12, 0]
    with pytest.raises(ValueError, match="service level"):
        order_up_to_level(lead, 0.97)
