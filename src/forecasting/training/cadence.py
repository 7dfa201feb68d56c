"""The training cadence: on which days the full backtest and refit run.

Production teams do not retrain every day: the backtest and refit are the expensive part
of the run, and a model a few days old forecasts as well. The rule, checked in order
(the first that applies decides; the decision and its reason are logged in MLflow):

1. **Same date, same data, same configuration**: a finished run of this date exists with
   the same data fingerprint and configuration hash -> reuse its model version, so the
   date's forecasts are republished byte for byte.
2. ``force_retrain`` -> train.
3. **No champion** -> train.
4. **A past date** (the run's day is before the champion's data end: a backfill, or an
   old date re-run after new data arrived): never score history with a model that saw
   its future. Reuse the newest registered version whose data ends on or before the
   day, if it is less than ``retrain_every_days`` older; otherwise train a model for the
   day (registered, tagged ``backfill``, never promoted).
5. **Configuration changed** (the champion's configuration hash differs) -> train.
6. **Monitoring flagged decay** (the champion carries ``monitoring.decay = true``) -> train.
7. **Champion too old**: its data ends ``retrain_every_days`` or more before the day -> train.
8. **Catalogue changed**: the number of series differs from what the champion was trained
   on by more than 10 % -> train.
9. Otherwise -> score with the champion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from forecasting.registry.models import VersionInfo

__all__ = ["SERIES_CHANGE_LIMIT", "TrainingDecision", "decide_training"]

#: Share of series added or gone (vs the champion's training) that triggers retraining.
SERIES_CHANGE_LIMIT = 0.10
#: Model version tag monitoring sets when live accuracy decayed (issue: accuracy monitoring).
DECAY_TAG = "monitoring.decay"


@dataclass(frozen=True)
class TrainingDecision:
    """Whether a run trains, and if not, which version it scores with.

    Attributes:
        train: Run the backtest and refit.
        reason: Why, in one sentence.
        rule: Which rule of the module docstring decided.
        serve_version: The version to score with when not training.
        backfill: The run's day is before the champion's data end: whatever is trained
            for it is never promoted.
    """

    train: bool
    reason: str
    rule: str
    serve_version: str | None = None
    backfill: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def decide_training(
    run_day: date,
    *,
    config_hash: str,
    fingerprint: str,
    series: int,
    retrain_every_days: int,
    force_retrain: bool,
    champion: VersionInfo | None,
    versions: list[VersionInfo],
    previous_run: dict[str, str] | None,
) -> TrainingDecision:
    """Apply the cadence rule (see the module docstring).

    Args:
        run_day: The run's day.
        config_hash: Hash of today's training configuration.
        fingerprint: Today's data fingerprint (all shards).
        series: Series in today's extract.
        retrain_every_days: Cadence.
        force_retrain: Train whatever the rule says.
        champion: The serving champion.
        versions: Every registered version.
        previous_run: The newest finished run of the same date: its ``fingerprint``,
            ``config_hash`` and ``serving_version`` tags.

    Returns:
        The decision.
    """
    case = _Case(
        run_day,
        config_hash,
        fingerprint,
        series,
        retrain_every_days,
        force_retrain,
        champion,
        versions,
        previous_run,
    )
    decision = _same_run(case) or _forced(case)
    if decision is not None:
        return decision
    if case.champion is None:
        return TrainingDecision(True, "there is no champion yet", "no_champion")
    for rule in _CHAMPION_RULES:
        decision = rule(case, case.champion)
        if decision is not None:
            return decision
    return _keep_champion(case, case.champion)


@dataclass(frozen=True)
class _Case:
    """The inputs of :func:`decide_training`, for its rules."""

    run_day: date
    config_hash: str
    fingerprint: str
    series: int
    retrain_every_days: int
    force_retrain: bool
    champion: VersionInfo | None
    versions: list[VersionInfo]
    previous_run: dict[str, str] | None

    @property
    def backfill(self) -> bool:
        """The run's day is before the champion's data end."""
        champion = self.champion
        return bool(champion and champion.data_end and self.run_day < champion.data_end)

    def age(self, champion: VersionInfo) -> int:
        """Days from the champion's data end to the run's day (the cadence if unknown)."""
        if champion.data_end:
            return (self.run_day - champion.data_end).days
        return self.retrain_every_days


def _same_run(case: _Case) -> TrainingDecision | None:
    """Rule 1: the date's finished run with the same data and configuration is reused."""
    previous = case.previous_run
    if (
        previous
        and previous.get("fingerprint") == case.fingerprint
        and previous.get("config_hash") == case.config_hash
        and previous.get("serving_version")
        and not case.force_retrain
    ):
        return TrainingDecision(
            False,
            f"a finished run of {case.run_day} with the same data and configuration served "
            f"version {previous['serving_version']}: republishing from it",
            "same_run",
            previous["serving_version"],
            case.backfill,
        )
    return None


def _forced(case: _Case) -> TrainingDecision | None:
    """Rule 2: ``force_retrain`` trains."""
    if case.force_retrain:
        return TrainingDecision(True, "force_retrain is set", "forced", backfill=case.backfill)
    return None


def _past_date(case: _Case, champion: VersionInfo) -> TrainingDecision | None:
    """Rule 4: a day before the champion's data end scores with a version of its past."""
    if not case.backfill:
        return None
    run_day = case.run_day
    earlier = [
        v
        for v in case.versions
        if v.data_end is not None
        and v.data_end <= run_day
        and (run_day - v.data_end).days < case.retrain_every_days
        and v.config_hash == case.config_hash
    ]
    if earlier:
        best = max(earlier, key=lambda v: (v.data_end, int(v.version)))
        return TrainingDecision(
            False,
            f"{run_day} is before champion v{champion.version}'s data end "
            f"{champion.data_end}: scoring with v{best.version}, trained on data to "
            f"{best.data_end}",
            "as_of_version",
            best.version,
            True,
        )
    return TrainingDecision(
        True,
        f"{run_day} is before champion v{champion.version}'s data end {champion.data_end} "
        "and no version trained on data up to it is recent enough: training a backfill "
        "model (never promoted)",
        "backfill",
        backfill=True,
    )


def _config_changed(case: _Case, champion: VersionInfo) -> TrainingDecision | None:
    """Rule 5: a changed configuration trains."""
    if champion.config_hash != case.config_hash:
        return TrainingDecision(
            True, f"the configuration changed since champion v{champion.version}", "config"
        )
    return None


def _decayed(case: _Case, champion: VersionInfo) -> TrainingDecision | None:
    """Rule 6: a champion monitoring flagged as decayed trains."""
    if champion.tags.get(DECAY_TAG) == "true":
        return TrainingDecision(
            True, f"monitoring flagged champion v{champion.version}'s accuracy as decayed", "decay"
        )
    return None


def _too_old(case: _Case, champion: VersionInfo) -> TrainingDecision | None:
    """Rule 7: a champion whose data is ``retrain_every_days`` or more old trains."""
    age = case.age(champion)
    if age >= case.retrain_every_days:
        return TrainingDecision(
            True,
            f"champion v{champion.version}'s data is {age} days old "
            f"(retrain every {case.retrain_every_days})",
            "age",
        )
    return None


def _catalogue_changed(case: _Case, champion: VersionInfo) -> TrainingDecision | None:
    """Rule 8: more than :data:`SERIES_CHANGE_LIMIT` of the series added or gone trains."""
    if champion.series and abs(case.series - champion.series) > (
        SERIES_CHANGE_LIMIT * champion.series
    ):
        return TrainingDecision(
            True,
            f"the catalogue changed: {case.series} series today vs {champion.series} when "
            f"champion v{champion.version} was trained",
            "catalogue",
        )
    return None


def _keep_champion(case: _Case, champion: VersionInfo) -> TrainingDecision:
    """Rule 9: otherwise score with the champion."""
    return TrainingDecision(
        False,
        f"champion v{champion.version}'s data is {case.age(champion)} days old (retrain every "
        f"{case.retrain_every_days}): scoring with it",
        "champion",
        champion.version,
    )


#: Rules 4 to 8, in order, once there is a champion.
_CHAMPION_RULES: tuple[Callable[[_Case, VersionInfo], TrainingDecision | None], ...] = (
    _past_date,
    _config_changed,
    _decayed,
    _too_old,
    _catalogue_changed,
)
