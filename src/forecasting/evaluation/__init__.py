"""Backtesting, metrics and interval calibration."""

from forecasting.evaluation.backtest import (
    BacktestPlan,
    ModelBacktest,
    backtest_model,
    combine_backtests,
)
from forecasting.evaluation.calibration import IntervalCalibrator
from forecasting.evaluation.metrics import LOWER_IS_BETTER, METRIC_COLUMNS, score_forecasts

__all__ = [
    "LOWER_IS_BETTER",
    "METRIC_COLUMNS",
    "BacktestPlan",
    "IntervalCalibrator",
    "ModelBacktest",
    "backtest_model",
    "combine_backtests",
    "score_forecasts",
]
