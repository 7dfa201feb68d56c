"""How much a run can backtest with the history the shop has.

A new shop, or one that kept only weeks of orders, has less history than the configured
backtest (``n_windows`` scored windows and ``calibration_windows`` older ones, each
``horizon`` days) and the candidates need. Rather than fail, a run does what its history
allows, and records why:

* every candidate declares the days it needs to be fitted
  (:meth:`~forecasting.models.base.Forecaster.min_history_days`: seasonal naive 1 day,
  the global models ``scale_window + 2`` = 93 days, an ensemble its neediest member's);
  a backtest window also needs at least :data:`MIN_SCORING_DAYS` before it, for the
  error scales RMSSE and MASE divide by;
* windows are dropped, calibration windows first, until the most candidates fit (ties:
  the most windows). A candidate that still does not fit is left out, with its reason;
* below one window plus :data:`MIN_SCORING_DAYS` days nothing can be backtested: seasonal
  naive serves without a backtest (the mean of the days so far while there is less than a
  week), never promoted to ``@champion``;
* below ``checks.min_history_days`` (default 7) the run stops in validation, naming the
  rule, the minimum and the shop's history (:mod:`forecasting.validation.checks`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from forecasting.config import PipelineConfig
from forecasting.names import BASELINE_MODEL

__all__ = ["MIN_SCORING_DAYS", "TrainingPlan", "candidate_min_days", "plan_training"]

#: Days of history a backtest window needs before it, whatever the model: a week of
#: one-day and one-week differences for the scales of RMSSE and MASE.
MIN_SCORING_DAYS = 14


@dataclass(frozen=True)
class TrainingPlan:
    """The backtest a run can afford, and the candidates in it.

    Attributes:
        history_days: Days from the shop's first sale to the run's day (capped by the
            extracted window).
        n_windows: Scored backtest windows.
        calibration_windows: Older windows used only to calibrate intervals.
        models: Candidates backtested (the baseline always among them).
        skipped: Candidates left out, with why.
        backtest: ``False`` when not even one window fits: the baseline serves unscored.
        min_train_days: Days the oldest window leaves to train on.
        reason: The plan in one sentence (logged, and tagged on the date's MLflow run).
    """

    history_days: int
    n_windows: int
    calibration_windows: int
    models: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)
    backtest: bool = True
    min_train_days: int = MIN_SCORING_DAYS
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what the check step hands to training)."""
        out = asdict(self)
        out["models"] = list(self.models)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingPlan:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**data, "models": tuple(data["models"])})

    def apply(self, config: PipelineConfig) -> PipelineConfig:
        """``config`` with this plan's windows and candidates (for training; the run's
        configuration hash stays the configured one)."""
        return config.model_copy(
            update={
                "n_windows": self.n_windows,
                "calibration_windows": self.calibration_windows,
                "models": self.models,
            }
        )


def candidate_min_days(config: PipelineConfig) -> dict[str, int]:
    """Days of history each configured candidate needs to be fitted."""
    from forecasting.models.zoo import make_model

    return {
        name: make_model(
            name,
            horizon=config.horizon,
            params=config.model_params.get(name),
            all_params=config.model_params,
        ).min_history_days()
        for name in config.models
    }


def plan_training(history_days: int, config: PipelineConfig) -> TrainingPlan:
    """The backtest ``history_days`` of history allows (see the module docstring)."""
    history = min(history_days, config.history_days)
    need = {name: max(days, MIN_SCORING_DAYS) for name, days in candidate_min_days(config).items()}
    h = config.horizon
    configured = config.n_windows + config.calibration_windows
    best: tuple[int, int] | None = None
    for total in range(configured, 0, -1):
        fits = sum(history >= total * h + days for days in need.values())
        if fits and (best is None or fits > best[0]):
            best = (fits, total)
    if best is None or history < h + need[BASELINE_MODEL]:
        return TrainingPlan(
            history_days=history,
            n_windows=0,
            calibration_windows=0,
            models=(BASELINE_MODEL,),
            skipped={
                n: _too_short(n, history, h + d) for n, d in need.items() if n != BASELINE_MODEL
            },
            backtest=False,
            min_train_days=0,
            reason=f"{_days(history)} of history: fewer than one backtest window of {h} days "
            f"plus {need[BASELINE_MODEL]} to train and score on; seasonal naive serves, not "
            "backtested",
        )
    total = best[1]
    scored = min(config.n_windows, total)
    models = tuple(n for n in config.models if history >= total * h + need[n])
    skipped = {
        n: _too_short(n, history, total * h + need[n]) for n in config.models if n not in models
    }
    full = total == configured and not skipped
    reason = (
        f"{_days(history)} of history: the configured backtest ({config.n_windows} + "
        f"{config.calibration_windows} windows of {h} days) with every candidate"
        if full
        else f"{_days(history)} of history: {scored} scored + {total - scored} calibration "
        f"windows of {h} days" + (f"; left out: {', '.join(sorted(skipped))}" if skipped else "")
    )
    return TrainingPlan(
        history_days=history,
        n_windows=scored,
        calibration_windows=total - scored,
        models=models,
        skipped=skipped,
        backtest=True,
        min_train_days=max(need[n] for n in models),
        reason=reason,
    )


def _too_short(name: str, history: int, needed: int) -> str:
    return f"{name} needs {needed} days of history for this backtest; the shop has {history}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"
