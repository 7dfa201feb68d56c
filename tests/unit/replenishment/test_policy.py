"""Order suggestions: the interpolation of the lead-time model, pack and MOQ rounding,
stock positions from the source tables, and suggest_orders end to end."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from forecasting.evaluation.leadtime import (
    LEADTIME_DAYS,
    LEADTIME_LEVELS,
    LeadTimeCalibrator,
    leadtime_totals,
    level_column,
)
from forecasting.replenishment import (
    POSITION_COLUMNS,
    REPLENISHMENT_COLUMNS,
    ReplenishmentPolicy,
    demand_cdf,
    demand_quantile,
    demand_quantile_points,
    positions_from_source,
    round_orders,
    suggest_orders,
)


def backtest(n_series: int = 300, n_windows: int = 3, seed: int = 0) -> pd.DataFrame:
    """Daily forecasts and Poisson actuals whose level is off per series and window."""
    rng = np.random.default_rng(seed)
    parts = []
    for w in range(n_windows):
        mean = rng.gamma(2.0, 3.0, n_series)
        factor = rng.lognormal(0.0, 0.3, n_series)
        horizon = np.repeat(np.arange(1, 29), n_series)
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": np.tile([f"s{i}" for i in range(n_series)], 28),
                    "window": w,
                    "horizon": horizon,
                    "forecast": np.tile(mean, 28),
                    "y": rng.poisson(np.tile(mean * factor, 28)).astype(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def calibrator() -> LeadTimeCalibrator:
    return LeadTimeCalibrator.fit(leadtime_totals(backtest()))


def test_orders_round_up_to_whole_packs_then_to_the_minimum_order() -> None:
    qty = np.array([-3.0, 0.0, 0.2, 6.0, 7.0, 3.0, 3.0])
    pack = np.array([6, 6, 6, 6, 6, 1, 4])
    moq = np.array([0, 10, 0, 0, 0, 10, 2])
    assert round_orders(qty, pack, moq).tolist() == [0, 0, 6, 6, 12, 10, 4]


def test_interpolation_is_exact_at_the_fitted_lead_times_and_levels(
    calibrator: LeadTimeCalibrator,
) -> None:
    daily = np.array([[0.3] * 28, [4.0] * 28, [12.5] * 28])
    for days in LEADTIME_DAYS:
        frame = pd.DataFrame(
            {
                "unique_id": np.repeat(["a", "b", "c"], 28),
                "horizon": np.tile(np.arange(1, 29), 3),
                "forecast": daily.ravel(),
            }
        )
        totals = leadtime_totals(frame, days=(days,))
        expected = calibrator.quantiles(totals)
        points = demand_quantile_points(calibrator, daily, np.full(3, days))
        for i, level in enumerate(LEADTIME_LEVELS):
            want = expected[level_column(level)].to_numpy()
            np.testing.assert_allclose(points[:, i], want, rtol=1e-12)
            np.testing.assert_allclose(demand_quantile(points, level), want, rtol=1e-12)


def test_quantile_grows_with_the_level_and_the_protection_period() -> None:
    # A model whose 14-day z is far below its 7-day one: the raw formula would shrink S
    # from 7 to 14 days; the policy must not.
    odd = LeadTimeCalibrator(
        edges={"7": [], "14": [], "28": []},
        z={
            "7": [[0.5, 2.0, 3.0, 4.0, 6.0]],
            "14": [[-2.0, -1.0, -0.5, 0.0, 0.5]],
            "28": [[0.0, 1.0, 1.5, 2.0, 3.0]],
        },
        n_obs={"7": 1, "14": 1, "28": 1},
    )
    rng = np.random.default_rng(1)
    daily = rng.gamma(0.7, 2.0, (40, 28))
    levels = np.linspace(0.5, 0.99, 50)
    by_days = []
    for days in range(1, 29):
        points = demand_quantile_points(odd, daily, np.full(40, days))
        by_level = np.stack([demand_quantile(points, q) for q in levels], axis=1)
        assert (np.diff(by_level, axis=1) >= -1e-9).all()
        by_days.append(by_level)
    assert (np.diff(np.stack(by_days), axis=0) >= -1e-9).all()
    # Between fitted lead times, z is linear in days: 10 days is 3/7 of the way to 14.
    flat = np.full((1, 28), 100.0)
    q10 = demand_quantile_points(odd, flat, np.array([10]))[0, -1]
    z = 6.0 + (0.5 - 6.0) * 3 / 7
    q7 = 700 + np.sqrt(700) * 6.0  # the 7-day level carried forward (monotone in days)
    assert q10 == pytest.approx(max(1000 + np.sqrt(1000) * z, q7))


def test_cdf_inverts_the_quantile_and_clips_outside_the_model() -> None:
    points = np.array([[10.0, 14.0, 17.0, 20.0, 26.0]] * 3)
    for level in (0.5, 0.62, 0.8, 0.93, 0.95, 0.97, 0.99):
        stock = demand_quantile(points, level)
        assert demand_cdf(points, stock) == pytest.approx(np.full(3, level))
    assert demand_cdf(points, np.array([0.0, 9.9, 1e6])).tolist() == [0.5, 0.5, 0.99]
    with pytest.raises(ValueError, match=r"service levels must be in \[0.5, 0.99\]"):
        demand_quantile(points, 0.995)


def _forecasts(levels: dict[tuple[str, str], float], horizon: int = 28) -> pd.DataFrame:
    rows = [
        {"unique_id": f"{s}@{loc}", "sku": s, "location_id": loc, "horizon": h, "forecast": v}
        for (s, loc), v in levels.items()
        for h in range(1, horizon + 1)
    ]
    return pd.DataFrame(rows)


def test_suggest_orders_end_to_end(calibrator: LeadTimeCalibrator) -> None:
    forecasts = _forecasts({("a", "x"): 2.0, ("b", "x"): 6.0, ("c", "y"): 0.4, ("d", "x"): 1.0})
    positions = pd.DataFrame(
        {
            "sku": ["a", "b", "c", "e", "d"],
            "location_id": ["x", "x", "y", "x", "x"],
            "on_hand": [3.0, 500.0, 0.0, 1.0, 0.0],
            "on_order": [5.0, 0.0, np.nan, 0.0, 0.0],
            "lead_time_days": [7, 3, 10, 7, 25],
            "review_period_days": [7, 1, 4, 7, 7],  # d: 32 days > the 28-day forecast
            "service_level": [0.95, 0.9, 0.83, 0.95, 0.95],
            "pack_size": [12, 1, 5, 1, 1],
            "min_order_qty": [0, 0, 20, 0, 0],
        }
    )
    out = suggest_orders(forecasts, calibrator, positions)
    assert tuple(out.columns) == REPLENISHMENT_COLUMNS
    assert out["sku"].tolist() == ["a", "b", "c"]  # e: no forecast; d: period too long
    rows = out.set_index("sku")
    assert rows["demand_mean"].tolist() == pytest.approx([28.0, 24.0, 5.6])
    for sku, daily, days, level in (("a", 2.0, 14, 0.95), ("b", 6.0, 4, 0.9), ("c", 0.4, 14, 0.83)):
        points = demand_quantile_points(calibrator, np.full((1, 28), daily), np.array([days]))
        assert rows.loc[sku, "order_up_to"] == np.ceil(demand_quantile(points, level)[0])
    # a: S - 8 rounded up to packs of 12; b: far above S, nothing; c: packs of 5, MOQ 20.
    need_a = rows.loc["a", "order_up_to"] - 8
    assert rows.loc["a", "suggested_qty"] == 12 * np.ceil(need_a / 12) and need_a > 0
    assert rows.loc["b", "suggested_qty"] == 0
    assert rows.loc["c", "suggested_qty"] == max(20, 5 * np.ceil(rows.loc["c", "order_up_to"] / 5))
    assert (out["expected_service_level"] >= out["service_level"] - 1e-12).all()
    assert rows.loc["b", "expected_service_level"] == 0.99  # 500 units cover any P99
    with pytest.raises(ValueError, match="service levels must be in"):
        suggest_orders(forecasts, calibrator, positions.assign(service_level=0.3))
    with pytest.raises(ValueError, match="pack_size must be a number >= 1"):
        suggest_orders(forecasts, calibrator, positions.assign(pack_size=0))


def test_expected_service_meets_the_target_whenever_rounding_only_adds_stock(
    calibrator: LeadTimeCalibrator,
) -> None:
    rng = np.random.default_rng(3)
    n = 200
    keys = [(f"s{i}", "x") for i in range(n)]
    forecasts = _forecasts(dict(zip(keys, rng.gamma(1.0, 4.0, n), strict=True)))
    positions = pd.DataFrame(
        {
            "sku": [k[0] for k in keys],
            "location_id": "x",
            "on_hand": rng.integers(0, 60, n).astype(float),
            "on_order": rng.integers(0, 30, n).astype(float),
            "lead_time_days": rng.integers(0, 15, n),
            "review_period_days": rng.integers(1, 8, n),
            "service_level": rng.uniform(0.5, 0.99, n),
            "pack_size": rng.integers(1, 13, n),
            "min_order_qty": rng.integers(0, 25, n),
        }
    )
    out = suggest_orders(forecasts, calibrator, positions)
    assert len(out) == n
    assert (out["expected_service_level"] >= out["service_level"] - 1e-12).all()
    ordered = out["suggested_qty"] > 0
    assert ordered.any() and (~ordered).any()
    stock = out["on_hand"] + out["on_order"] + out["suggested_qty"]
    assert (stock.loc[ordered] >= out.loc[ordered, "order_up_to"]).all()


def test_positions_take_the_latest_snapshot_and_open_orders() -> None:
    snapshots = pd.DataFrame(
        {
            "sku": ["a", "a", "a", "b", "c", "d"],
            "location_id": ["x"] * 6,
            "snapshot_date": [
                "2026-03-01",
                "2026-03-04",
                "2026-03-09",
                "2026-03-05",
                "2026-03-08",
                "2026-03-05",
            ],
            "units_on_hand": [10, 7, 99, -2, 4, 3],
        }
    )
    orders = pd.DataFrame(
        {
            "purchase_order_id": ["p1", "p2", "p3", "p4"],
            "sku": ["a", "a", "a", "b"],
            "location_id": ["x"] * 4,
            "quantity": [20.0, 5.0, 8.0, 6.0],
            "expected_on": ["2026-03-10", "2026-03-05", "2026-03-12", "2026-03-06"],
            "ordered_on": ["2026-03-01", "2026-03-01", "2026-03-07", None],
        }
    )
    policy = pd.DataFrame(
        {
            "sku": ["a", "b", "e"],
            "location_id": ["x", "x", "x"],
            "lead_time_days": [7, 3, 7],
            "review_period_days": [7, 1, 7],
            "service_level": [0.95, 0.9, 0.95],
            "pack_size": [6, 1, 1],
            "min_order_qty": [0, 0, 0],
        }
    )
    out = positions_from_source(snapshots, orders, policy, date(2026, 3, 5))
    assert tuple(out.columns) == POSITION_COLUMNS
    # a: snapshot of the 4th (the 9th is after run day); p1 open, p2 arrived, p3 not yet
    # ordered. b: negative count read as 0, p4 open. c, d: no policy row; e: no snapshot.
    assert out[["sku", "on_hand", "on_order", "pack_size"]].values.tolist() == [
        ["a", 7.0, 20.0, 6],
        ["b", 0.0, 6.0, 1],
    ]
    default = ReplenishmentPolicy(lead_time_days=5, review_period_days=2, service_level=0.9)
    out = positions_from_source(snapshots, None, policy, date(2026, 3, 5), default)
    assert out["sku"].tolist() == ["a", "b", "d"]  # c's snapshot is after the run day
    assert out.loc[2, ["lead_time_days", "service_level", "on_order"]].tolist() == [5, 0.9, 0.0]
