"""The demand forecast's promotion thresholds, on the one rule of
:mod:`forecasting.lifecycle.promotion` (lower is better; gains and tolerance relative).

Thresholds come from :class:`forecasting.config.PromotionPolicy`: a candidate must be
``min_gain_vs_naive`` better than seasonal naive, score at most ``max_primary_metric``
(RMSSE 1.5) however bad the baseline is, keep ``|bias| <= max_abs_bias``, forecast no
series above ``plausibility_factor`` times its largest daily demand of the last year, and
be at most ``champion_tolerance`` worse than the champion's live accuracy (once
``min_live_days`` days of actuals arrived) or else its recorded backtest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from forecasting.config import PromotionPolicy
from forecasting.lifecycle.promotion import (
    CHAMPION_ALIAS,
    Evidence,
    PromotionDecision,
    PromotionRule,
)
from forecasting.lifecycle.promotion import decide_promotion as decide

__all__ = [
    "CHAMPION_ALIAS",
    "GateInputs",
    "PromotionDecision",
    "decide_promotion",
    "demand_rule",
]


def demand_rule(policy: PromotionPolicy, metric: str) -> PromotionRule:
    """The demand forecast's rule for its primary ``metric`` (lower is better)."""
    return PromotionRule(
        metric=metric,
        direction="lower",
        min_gain=policy.min_gain_vs_naive,
        champion_tolerance=policy.champion_tolerance,
        relative=True,
        sane_limit=policy.max_primary_metric,
        max_abs_bias=policy.max_abs_bias,
        plausibility_factor=policy.plausibility_factor,
        min_live_days=policy.min_live_days,
        baseline_name="seasonal naive",
    )


@dataclass(frozen=True)
class GateInputs:
    """Everything the demand rule looks at.

    Attributes:
        metric: Primary metric (lower is better).
        candidate: The candidate's backtest score over the catalogue.
        baseline: Seasonal naive's score on the same windows and series.
        bias: The candidate's backtest bias.
        candidate_is_baseline: The winner *is* seasonal naive.
        implausible_series: Series whose refit forecast failed the plausibility check.
        data_end: Last day of the candidate's data (the run's day).
        champion_version: The serving champion (``None``: no champion yet).
        champion_data_end: Last day of the champion's data.
        champion_backtest: The score the champion was promoted with.
        champion_live: The champion's score on actuals since its promotion.
        champion_live_days: Target days behind ``champion_live``.
    """

    metric: str
    candidate: float
    baseline: float
    bias: float
    candidate_is_baseline: bool
    implausible_series: int
    data_end: date
    champion_version: str | None = None
    champion_data_end: date | None = None
    champion_backtest: float | None = None
    champion_live: float | None = None
    champion_live_days: int = 0

    def evidence(self) -> Evidence:
        """The lifecycle rule's view of these inputs."""
        return Evidence(
            candidate=self.candidate,
            baseline=self.baseline,
            candidate_is_baseline=self.candidate_is_baseline,
            data_end=self.data_end,
            bias=self.bias,
            implausible_series=self.implausible_series,
            champion_version=self.champion_version,
            champion_data_end=self.champion_data_end,
            champion_backtest=self.champion_backtest,
            champion_live=self.champion_live,
            champion_live_days=self.champion_live_days,
        )


def decide_promotion(policy: PromotionPolicy, gate: GateInputs) -> PromotionDecision:
    """Apply :func:`forecasting.lifecycle.promotion.decide_promotion` with the demand rule."""
    return decide(demand_rule(policy, gate.metric), gate.evidence())
