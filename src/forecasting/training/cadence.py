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
    if (
        previous_run
        and previous_run.get("fingerprint") == fingerprint
        and previous_run.get("config_hash") == config_hash
        and previous_run.get("serving_version")
        and not force_retrain
    ):
        return TrainingDecision(
            False,
            f"a finished run of {run_day} with the same data and configuration served version "
            f"{previous_run['serving_version']}: republishing from it",
            "same_run",
            previous_run["serving_version"],
            bool(champion and champion.data_end and run_day < champion.data_end),
        )
    backfill = bool(champion and champion.data_end and run_day < champion.data_end)
    if force_retrain:
        return TrainingDecision(True, "force_retrain is set", "forced", backfill=backfill)
    if champion is None:
        return TrainingDecision(True, "there is no champion yet", "no_champion")
    if backfill:
        earlier = [
            v
            for v in versions
            if v.data_end is not None
            and v.data_end <= run_day
            and (run_day - v.data_end).days < retrain_every_days
            and v.config_hash == config_hash
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
    if champion.config_hash != config_hash:
        return TrainingDecision(
            True, f"the configuration changed since champion v{champion.version}", "config"
        )
    if champion.tags.get(DECAY_TAG) == "true":
        return TrainingDecision(
            True, f"monitoring flagged champion v{champion.version}'s accuracy as decayed", "decay"
        )
    age = (run_day - champion.data_end).days if champion.data_end else retrain_every_days
    if age >= retrain_every_days:
        return TrainingDecision(
            True,
            f"champion v{champion.version}'s data is {age} days old "
            f"(retrain every {retrain_every_days})",
            "age",
        )
    if champion.series and abs(series - champion.series) > SERIES_CHANGE_LIMIT * champion.series:
        return TrainingDecision(
            True,
            f"the catalogue changed: {series} series today vs {champion.series} when "
            f"champion v{champion.version} was trained",
            "catalogue",
        )
    return TrainingDecision(
        False,
        f"champion v{champion.version}'s data is {age} days old (retrain every "
        f"{retrain_every_days}): scoring with it",
        "champion",
        champion.version,
    )
