"""Rolling-origin backtests: fit at several past cut-offs, forecast the next horizon.

Windows do not overlap and end at the panel's last history day. The oldest
``calibration_windows`` windows are forecast but not scored: together with every
earlier scored window they calibrate the intervals of the next one (see
:mod:`forecasting.evaluation.calibration`). Scored window ``k`` is thus calibrated only
on actuals that were known at its origin.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecasting.errors import InsufficientHistoryError
from forecasting.evaluation.calibration import IntervalCalibrator
from forecasting.evaluation.metrics import score_forecasts, series_scales
from forecasting.features.panel import Panel
from forecasting.models.base import Forecaster
from forecasting.profiling import PeakMemory

if TYPE_CHECKING:
    from forecasting.config import PipelineConfig

__all__ = ["BacktestPlan", "ModelBacktest", "backtest_model", "combine_backtests", "window_cutoffs"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BacktestPlan:
    """Where the windows are and which series each one scores.

    Attributes:
        horizon: Window length (days), also the forecast horizon.
        n_windows: Scored windows.
        calibration_windows: Older windows used only to calibrate intervals.
        active_days: Forecast and score only series with positive demand in this many
            days before the origin (``None``: every series with history).
        min_train_days: Days of history the oldest window must leave to train on
            (``None``: two horizons).
    """

    horizon: int = 28
    n_windows: int = 3
    calibration_windows: int = 1
    active_days: int | None = 90
    min_train_days: int | None = None

    @classmethod
    def of(cls, config: PipelineConfig, min_train_days: int | None = None) -> BacktestPlan:
        """The windows a run's configuration asks for (``horizon``, ``n_windows``,
        ``calibration_windows``, ``active_days``)."""
        return cls(
            config.horizon,
            config.n_windows,
            config.calibration_windows,
            config.active_days,
            min_train_days,
        )

    @property
    def total_windows(self) -> int:
        """Scored plus calibration windows."""
        return self.n_windows + self.calibration_windows


def window_cutoffs(panel: Panel, plan: BacktestPlan) -> list[int]:
    """Cut-off day indices (last training day) of every window, oldest first.

    Raises:
        InsufficientHistoryError: If the oldest window leaves fewer than
            ``plan.min_train_days`` days to train on (the pipeline plans its windows so that
            it never does: :mod:`forecasting.training.plan`).
    """
    last = panel.last_history_index
    cutoffs = [last - (plan.total_windows - k) * plan.horizon for k in range(plan.total_windows)]
    train = plan.min_train_days if plan.min_train_days is not None else 2 * plan.horizon
    if cutoffs[0] + 1 < train:
        raise InsufficientHistoryError(
            f"history of {panel.n_history} days is too short for {plan.total_windows} "
            f"backtest windows of {plan.horizon} days after {train} days of training (it "
            f"needs {plan.total_windows * plan.horizon + train})"
        )
    return cutoffs


@dataclass
class ModelBacktest:
    """One model's backtest.

    Attributes:
        name: Candidate name.
        raw: Forecasts of every window (calibration windows included) with actuals,
            series scales, ``window`` (0 = oldest) and ``cutoff`` date.
        scored: Calibrated forecasts of the scored windows.
        metrics: Metrics over all scored windows (see :func:`score_forecasts`).
        window_metrics: Metrics per scored window.
        calibrator: Calibrator fitted on *all* windows: the one to ship with the final model.
        fit_seconds: Wall seconds spent fitting and predicting, per window.
        peak_memory_mb: Peak resident memory above the starting level while fitting and
            predicting, in MiB (NaN unless measured).
        nonfinite: Forecast rows with a NaN or infinite value (any: the candidate's
            metrics are NaN, so it can never win or be promoted).
    """

    name: str
    raw: pd.DataFrame
    scored: pd.DataFrame = field(default_factory=pd.DataFrame)
    metrics: dict[str, float] = field(default_factory=dict)
    window_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    calibrator: IntervalCalibrator = field(default_factory=IntervalCalibrator.identity)
    fit_seconds: list[float] = field(default_factory=list)
    peak_memory_mb: float = float("nan")
    nonfinite: int = 0

    @property
    def seconds(self) -> float:
        """Total wall seconds."""
        return float(sum(self.fit_seconds))


def _window_frame(panel: Panel, forecast: pd.DataFrame, cutoff: int, window: int) -> pd.DataFrame:
    pos = pd.Index(panel.ids["unique_id"]).get_indexer(forecast["unique_id"])
    target = cutoff + forecast["horizon"].to_numpy()
    scales = series_scales(panel.y, cutoff)
    out = forecast.assign(
        y=panel.y[pos, target],
        window=window,
        cutoff=panel.dates[cutoff],
        mae1=scales["mae1"].to_numpy()[pos],
        mse1=scales["mse1"].to_numpy()[pos],
        mae7=scales["mae7"].to_numpy()[pos],
    )
    return out


def _series_to_score(panel: Panel, cutoff: int, plan: BacktestPlan) -> np.ndarray:
    has_history = ~np.isnan(panel.y[:, : cutoff + 1]).all(axis=1)
    if plan.active_days:
        has_history &= panel.active_series(cutoff, plan.active_days)
    return np.flatnonzero(has_history)


def backtest_model(
    name: str,
    make_model: Callable[[], Forecaster],
    panel: Panel,
    plan: BacktestPlan,
    measure_memory: bool = False,
) -> ModelBacktest:
    """Fit a fresh model at every cut-off and forecast the following window.

    Args:
        name: Candidate name (for logs and the result).
        make_model: Returns a new, unfitted forecaster.
        panel: Full panel; each fit only sees history up to its cut-off.
        plan: Window layout.
        measure_memory: Sample the process's peak resident memory (for benchmarks).

    Returns:
        Raw window forecasts; call :func:`finish_backtest` for calibration and metrics.
    """
    frames = []
    seconds = []
    memory = PeakMemory() if measure_memory else contextlib.nullcontext()
    with memory:
        for k, cutoff in enumerate(window_cutoffs(panel, plan)):
            train = panel.truncate(cutoff)
            series = _series_to_score(panel, cutoff, plan)
            start = time.perf_counter()
            model = make_model().fit(train)
            forecast = model.predict(train, plan.horizon, series=series)
            seconds.append(time.perf_counter() - start)
            frames.append(_window_frame(panel, forecast, cutoff, k))
            when = panel.dates[cutoff].date()
            log.info("backtest %s window %d (cutoff %s): %.1fs", name, k, when, seconds[-1])
    result = ModelBacktest(name, pd.concat(frames, ignore_index=True), fit_seconds=seconds)
    result.peak_memory_mb = memory.peak_mb if isinstance(memory, PeakMemory) else float("nan")
    return finish_backtest(result, plan)


def finish_backtest(result: ModelBacktest, plan: BacktestPlan) -> ModelBacktest:
    """Calibrate each scored window on the windows before it and compute metrics."""
    raw = result.raw
    values = raw[["forecast", "p10", "p50", "p90"]].to_numpy(float)
    result.nonfinite = int((~np.isfinite(values)).any(axis=1).sum())
    if result.nonfinite:
        log.warning(
            "%s produced %d non-finite forecasts in the backtest: disqualified",
            result.name,
            result.nonfinite,
        )
    scored = []
    rows = []
    for k in range(plan.calibration_windows, plan.total_windows):
        calibrator = IntervalCalibrator.fit(raw.loc[raw["window"] < k])
        window = calibrator.apply(raw.loc[raw["window"] == k])
        scored.append(window)
        rows.append({"window": k, "cutoff": window["cutoff"].iloc[0], **score_forecasts(window)})
    result.scored = pd.concat(scored, ignore_index=True)
    result.metrics = score_forecasts(result.scored)
    if result.nonfinite:  # never ranked on the rows that happened to be finite
        result.metrics = {k: float("nan") for k in result.metrics}
    result.window_metrics = pd.DataFrame(rows)
    result.calibrator = IntervalCalibrator.fit(raw)
    return result


def combine_backtests(
    name: str,
    members: list[ModelBacktest],
    weights: list[float],
    plan: BacktestPlan,
    quantile_members: list[str] | None = None,
) -> ModelBacktest:
    """Backtest of a weighted average of members, from their raw window forecasts.

    The point forecast averages every member; quantiles average the members named in
    ``quantile_members`` (default: all), as :class:`EnsembleForecaster` does.
    """
    keys = ["unique_id", "ds", "window"]
    in_q = [quantile_members is None or m.name in quantile_members for m in members]
    base = members[0].raw.drop(columns=["forecast", "p10", "p50", "p90"]).set_index(keys)
    parts = []
    for cols, mask in ((["forecast"], [True] * len(members)), (["p10", "p50", "p90"], in_q)):
        total = sum(w for w, m in zip(weights, mask, strict=True) if m)
        acc = None
        for member, w, m in zip(members, weights, mask, strict=True):
            if m:
                part = member.raw.set_index(keys)[cols] * (w / total)
                acc = part if acc is None else acc.add(part, fill_value=np.nan)
        parts.append(acc)
    raw = base.join(parts[0], how="inner").join(parts[1], how="inner").reset_index()
    result = ModelBacktest(name, raw, fit_seconds=[sum(m.seconds for m in members)])
    return finish_backtest(result, plan)
