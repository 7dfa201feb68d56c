import numpy as np
import pandas as pd
import pytest

from forecasting.evaluation.backtest import (
    BacktestPlan,
    backtest_model,
    combine_backtests,
    window_cutoffs,
)
from forecasting.evaluation.calibration import IntervalCalibrator
from forecasting.features import Panel
from forecasting.models.naive import SeasonalNaive

SEEN: list[int] = []


class SpyNaive(SeasonalNaive):
    """Records how much history each fit saw."""

    def _fit(self, panel: Panel) -> None:
        SEEN.append(panel.n_history)
        assert np.isnan(panel.y[:, panel.n_history :]).all()
        super()._fit(panel)


def test_windows_are_rolling_origins_without_leakage(shop_panel: Panel) -> None:
    plan = BacktestPlan(horizon=14, n_windows=3, calibration_windows=1, active_days=None)
    cutoffs = window_cutoffs(shop_panel, plan)
    last = shop_panel.last_history_index
    assert cutoffs == [last - 56, last - 42, last - 28, last - 14]
    SEEN.clear()
    result = backtest_model("spy", SpyNaive, shop_panel, plan)
    assert [c + 1 for c in cutoffs] == SEEN
    assert sorted(result.raw["window"].unique()) == [0, 1, 2, 3]
    assert sorted(result.scored["window"].unique()) == [1, 2, 3]
    assert len(result.window_metrics) == 3
    # Actuals come from after each cutoff; each window is calibrated on earlier windows only.
    w1 = result.raw.loc[result.raw["window"] == 1]
    assert (w1["ds"] > shop_panel.dates[cutoffs[1]]).all()
    expected = IntervalCalibrator.fit(result.raw.loc[result.raw["window"] == 0]).apply(w1)
    got = result.scored.loc[result.scored["window"] == 1]
    np.testing.assert_allclose(got["p90"].to_numpy(), expected["p90"].to_numpy())
    assert result.metrics["n_series"] == 3 * shop_panel.n_series


def test_too_short_history_is_refused(shop_panel: Panel) -> None:
    with pytest.raises(ValueError, match="too short"):
        window_cutoffs(shop_panel, BacktestPlan(horizon=100, n_windows=3))


def test_combined_backtest_is_the_weighted_average(shop_panel: Panel) -> None:
    plan = BacktestPlan(horizon=14, n_windows=2, calibration_windows=1, active_days=None)
    a = backtest_model("a", SeasonalNaive, shop_panel, plan)
    b = backtest_model("b", lambda: SeasonalNaive(season=1), shop_panel, plan)
    both = combine_backtests("ab", [a, b], [1.0, 3.0], plan)
    keys = ["unique_id", "ds", "window"]
    merged = a.raw.merge(b.raw, on=keys, suffixes=("_a", "_b")).merge(both.raw, on=keys)
    np.testing.assert_allclose(
        merged["forecast"], 0.25 * merged["forecast_a"] + 0.75 * merged["forecast_b"]
    )
    assert isinstance(both.metrics["rmsse"], float)
    assert len(pd.unique(both.scored["window"])) == 2
