"""The promotion rule: when a trained candidate becomes ``@champion``, for every model.

One rule serves the demand forecast (RMSSE, lower is better) and both customer models
(ROC AUC and NDCG@10, higher is better); the metric's direction, the thresholds and
whether gains are relative (``0.02`` = 2 %) or absolute (``0.005`` points) are the
:class:`PromotionRule`'s. Checked in this order; the first that fails rejects the
candidate and names itself in the decision's ``rule``:

1. ``finite``: the candidate's backtest score is a number.
2. ``not_baseline``: the baseline itself (seasonal naive; logistic RFM; popularity) is
   never promoted.
3. ``sane``: the score is on the right side of ``sane_limit`` (a ceiling when lower is
   better, a floor when higher is), however bad the baseline is on the same data.
4. ``beats_baseline``: better than the baseline on the same windows by ``min_gain``.
5. ``bias``: ``|bias| <= max_abs_bias`` (when the rule has one).
6. ``plausible``: the refit forecasts no implausible series (when the evidence has any).
7. ``no_champion``: with no champion yet, a candidate that passed 1-6 is promoted.
8. ``not_backwards``: a model whose data ends before the champion's (a backfill or a
   re-run of an old date) is never promoted.
9. ``vs_champion``: at most ``champion_tolerance`` worse than the serving champion's
   reference score: its live score once ``min_live_days`` days of it are known, else the
   backtest score it was promoted with. Within the tolerance the candidate wins because
   it was trained on fresher data.

Stages are never used; only the alias :data:`CHAMPION_ALIAS`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date
from typing import Literal

__all__ = [
    "CHAMPION_ALIAS",
    "Evidence",
    "PromotionDecision",
    "PromotionRule",
    "decide_promotion",
]

CHAMPION_ALIAS = "champion"

Direction = Literal["lower", "higher"]


@dataclass(frozen=True)
class PromotionRule:
    """A model's promotion thresholds.

    Attributes:
        metric: The metric the rule compares (``rmsse``, ``roc_auc``, ``ndcg_at_10``).
        direction: ``lower`` or ``higher`` is better.
        min_gain: How much better than the baseline the candidate must be.
        champion_tolerance: How much worse than the champion's reference it may be.
        relative: Gains and tolerance are fractions of the score compared with (``True``)
            or points of the metric (``False``).
        sane_limit: Worst score ever promoted (``None``: no limit).
        max_abs_bias: Largest backtest bias accepted (``None``: not checked).
        plausibility_factor: The refit's bound behind ``implausible_series`` (for reasons).
        min_live_days: Days of live score needed before it replaces the recorded backtest.
        baseline_name: How reasons name the baseline.
    """

    metric: str
    direction: Direction
    min_gain: float
    champion_tolerance: float
    relative: bool = False
    sane_limit: float | None = None
    max_abs_bias: float | None = None
    plausibility_factor: float = 10.0
    min_live_days: int = 0
    baseline_name: str = "the best baseline"

    def better(self, score: float, than: float) -> bool:
        """``score`` is at least as good as ``than`` (never for NaN)."""
        return score <= than if self.direction == "lower" else score >= than

    def shifted(self, score: float, amount: float, worse: bool) -> float:
        """``score`` moved ``amount`` (a fraction if :attr:`relative`) worse or better."""
        sign = 1.0 if (self.direction == "lower") == worse else -1.0
        return score * (1.0 + sign * amount) if self.relative else score + sign * amount

    def amount(self, value: float) -> str:
        """A gain or tolerance as reasons show it."""
        return f"{value:.0%}" if self.relative else f"{value:.4f}"


@dataclass(frozen=True)
class Evidence:
    """What the rule looks at for one candidate.

    Attributes:
        candidate: The candidate's backtest score.
        baseline: The baseline's score on the same windows.
        candidate_is_baseline: The winner *is* the baseline.
        data_end: Last day of the candidate's data (the run's day).
        bias: The candidate's backtest bias (checked when the rule has ``max_abs_bias``).
        implausible_series: Series whose refit forecast failed the plausibility check.
        champion_version: The serving champion (``None``: no champion yet).
        champion_data_end: Last day of the champion's data.
        champion_backtest: The score the champion was promoted with.
        champion_live: The champion's score on what happened since it served.
        champion_live_days: Days behind ``champion_live``.
    """

    candidate: float
    baseline: float
    candidate_is_baseline: bool
    data_end: date
    bias: float = 0.0
    implausible_series: int = 0
    champion_version: str | None = None
    champion_data_end: date | None = None
    champion_backtest: float | None = None
    champion_live: float | None = None
    champion_live_days: int = 0


@dataclass(frozen=True)
class PromotionDecision:
    """Outcome of :func:`decide_promotion`, with the numbers behind it."""

    promote: bool
    reason: str
    rule: str
    metric: str
    candidate: float
    baseline: float
    reference: float | None = None
    reference_kind: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _reference(rule: PromotionRule, ev: Evidence) -> tuple[float | None, str]:
    """The champion's score to compare with: live once enough days of it are known."""
    if ev.champion_live is not None and ev.champion_live_days >= rule.min_live_days:
        return ev.champion_live, f"live over {ev.champion_live_days} days"
    return ev.champion_backtest, "recorded backtest"


def _check_candidate(rule: PromotionRule, ev: Evidence) -> tuple[str, str] | None:
    """Rules 1-6: the failed rule and why, or ``None`` if the candidate passed them."""
    m, cand, base = rule.metric, ev.candidate, ev.baseline
    if not math.isfinite(cand):
        return "finite", f"candidate {m} is {cand}"
    if ev.candidate_is_baseline:
        return "not_baseline", f"no candidate beats {rule.baseline_name} ({m} {_fmt(base)})"
    limit = rule.sane_limit
    if limit is not None and not rule.better(cand, limit):
        side = "above the sanity ceiling" if rule.direction == "lower" else "below the floor"
        return "sane", f"candidate {m} {_fmt(cand)} is {side} {limit:g}"
    needed = rule.shifted(base, rule.min_gain, worse=False)
    if not rule.better(cand, needed):
        op = "<=" if rule.direction == "lower" else ">="
        return "beats_baseline", (
            f"candidate {m} {_fmt(cand)} is not {rule.amount(rule.min_gain)} better than "
            f"{rule.baseline_name} {_fmt(base)} (needed {op} {_fmt(needed)})"
        )
    if rule.max_abs_bias is not None and not abs(ev.bias) <= rule.max_abs_bias:
        return "bias", f"candidate bias {ev.bias:+.3f} exceeds +/-{rule.max_abs_bias}"
    if ev.implausible_series:
        return "plausible", (
            f"the refit forecasts {ev.implausible_series} series above "
            f"{rule.plausibility_factor:g} x their largest daily demand of the last year"
        )
    return None


def decide_promotion(rule: PromotionRule, ev: Evidence) -> PromotionDecision:
    """Apply the promotion rule (see the module docstring) to one candidate.

    Args:
        rule: The model's thresholds and its metric's direction.
        ev: The candidate's and the serving champion's scores.

    Returns:
        The decision; its ``reason`` ends in ``promoted`` or ``not promoted``.
    """
    m, cand, base = rule.metric, ev.candidate, ev.baseline

    def decide(
        promote: bool, name: str, reason: str, ref: float | None = None, kind: str | None = None
    ) -> PromotionDecision:
        verdict = "promoted" if promote else "not promoted"
        return PromotionDecision(promote, f"{reason}: {verdict}", name, m, cand, base, ref, kind)

    failed = _check_candidate(rule, ev)
    if failed is not None:
        return decide(False, *failed)
    beats = f"candidate {m} {_fmt(cand)} beats {rule.baseline_name} {_fmt(base)}"
    champion = ev.champion_version
    if champion is None:
        return decide(True, "no_champion", f"{beats}; no champion yet")
    if ev.champion_data_end is not None and ev.data_end < ev.champion_data_end:
        return decide(
            False,
            "not_backwards",
            f"candidate data ends {ev.data_end}, before champion v{champion}'s "
            f"{ev.champion_data_end} (a backfill or an old date re-run never moves @champion)",
        )
    reference, kind = _reference(rule, ev)
    if reference is None or not math.isfinite(reference):
        return decide(
            True,
            "vs_champion",
            f"{beats}; champion v{champion} has no recorded {m} to compare with",
        )
    tolerance = rule.amount(rule.champion_tolerance)
    if not rule.better(cand, rule.shifted(reference, rule.champion_tolerance, worse=True)):
        return decide(
            False,
            "vs_champion",
            f"candidate {m} {_fmt(cand)} is worse than champion v{champion}'s "
            f"{_fmt(reference)} ({kind}; tolerance {tolerance})",
            reference,
            kind,
        )
    return decide(
        True,
        "vs_champion",
        f"{beats} and is within {tolerance} of champion v{champion}'s {_fmt(reference)} ({kind})",
        reference,
        kind,
    )
