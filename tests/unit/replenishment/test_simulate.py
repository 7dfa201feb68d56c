"""Inventory simulation: hand-checked lost-sales cases and both policies on one window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.replenishment.simulate import (
    POLICIES,
    SIMULATION_METRICS,
    error_sigma,
    review_days,
    simulate_inventory,
    simulate_policies,
    summarise,
)

H, L = 10, 2  # daily review: protection period L + 1 = 3 days


def levels(value: float, k: int = 1) -> np.ndarray:
    out = np.full((k, H + 1), np.nan)
    out[:, review_days(H, L)] = value
    return out


def test_constant_demand_with_a_perfect_forecast_is_always_served() -> None:
    # S = 3 days of demand + 3 units: the order of each day replaces the day's sales and
    # every evening 3 units are left on the shelf.
    result = simulate_inventory(np.full((1, H), 5.0), levels(18.0), L)
    assert result.on_hand[0].tolist() == [13, 8, 3, 3, 3, 3, 3, 3, 3, 3]
    metrics = summarise(result.per_series())
    assert metrics["days"] == H - L - 1  # days 4..10 are scored
    assert metrics["cycle_service_level"] == 1.0 and metrics["fill_rate"] == 1.0
    assert metrics["average_on_hand"] == 3.0 and metrics["stockout_days"] == 0


def test_a_one_day_spike_is_one_stockout_and_its_sales_are_lost() -> None:
    demand = np.full((1, H), 5.0)
    demand[0, 5] = 20.0  # day 6
    result = simulate_inventory(demand, levels(18.0), L)
    # Day 6 sells the 8 units it has (12 lost); the 8 re-ordered that evening arrive for
    # day 9, days 7-8 are served by the orders already on their way.
    assert result.served[0].tolist() == [5, 5, 5, 5, 5, 8, 5, 5, 5, 5]
    assert result.on_hand[0, 3:].tolist() == [3, 3, 0, 0, 0, 3, 3]
    metrics = summarise(result.per_series())
    assert metrics["stockout_days"] == 1 and metrics["stockout_events"] == 1
    assert metrics["fill_rate"] == pytest.approx(38 / 50)
    assert metrics["cycle_service_level"] == pytest.approx(6 / 7)
    assert metrics["average_on_hand"] == pytest.approx(12 / 7)


def test_with_backorders_the_spike_is_carried_until_the_reorder_arrives() -> None:
    demand = np.full((1, H), 5.0)
    demand[0, 5] = 20.0
    result = simulate_inventory(demand, levels(18.0), L, lost_sales=False)
    # Days 6-8 end below zero (12 units owed) until day 6's order of 20 arrives for day 9.
    assert result.stockout[0].nonzero()[0].tolist() == [5, 6, 7]
    assert result.served[0].tolist() == [5, 5, 5, 5, 5, 8, 0, 0, 5, 5]
    metrics = summarise(result.per_series())
    assert metrics["stockout_days"] == 3 and metrics["stockout_events"] == 1
    assert metrics["fill_rate"] == pytest.approx(28 / 50)


def test_consecutive_stockout_days_are_one_event() -> None:
    demand = np.full((2, H), 5.0)
    demand[0, 5] = demand[0, 6] = 9.0  # days 6-7 of series 0
    demand[1, 4] = demand[1, 8] = 30.0  # days 5 and 9 of series 1
    per_series = simulate_inventory(demand, levels(15.0, 2), L).per_series()
    assert per_series["stockout_days"].tolist() == [2, 2]
    assert per_series["stockout_events"].tolist() == [1, 2]
    assert set(summarise(per_series)) == set(SIMULATION_METRICS)


def test_error_spread_falls_back_to_the_pooled_one_for_short_series() -> None:
    errors = pd.DataFrame(
        {"unique_id": ["a"] * 30 + ["b"] * 3, "error": [1.0, -1.0] * 15 + [0.0, 5.0, 9.0]}
    )
    sigma = error_sigma(errors)
    assert sigma["a"] == pytest.approx(np.std([1.0, -1.0] * 15, ddof=1))
    assert sigma["b"] == pytest.approx(errors["error"].std(ddof=1)) == sigma.attrs["pooled"]


def test_both_policies_fitted_on_a_perfect_earlier_window_order_the_forecast() -> None:
    # Earlier window: forecasts exact, so z = 0 and sigma = 0: both policies' S is the
    # forecast total of the protection period, and an exact later forecast is always met.
    rows = []
    for w in (0, 1):
        for i, rate in enumerate((2.0, 7.0, 4.0)):
            for h in range(1, 29):
                rows.append((f"s{i}", w, h, rate, rate, rate))
    frame = pd.DataFrame(rows, columns=["unique_id", "window", "horizon", "y", "forecast", "p50"])
    frame.loc[
        (frame["unique_id"] == "s2") & (frame["window"] == 1) & (frame["horizon"] == 9), "y"
    ] = np.nan
    ids, results = simulate_policies(frame, window=1, lead_time_days=7, service_level=0.95)
    assert list(ids) == ["s0", "s1"]  # s2 has an unknown actual in the window
    assert set(results) == set(POLICIES)
    for result in results.values():
        metrics = summarise(result.per_series())
        assert metrics["cycle_service_level"] == 1.0 and metrics["average_on_hand"] == 0.0
    with pytest.raises(ValueError, match="no earlier window"):
        simulate_policies(frame, window=0)
