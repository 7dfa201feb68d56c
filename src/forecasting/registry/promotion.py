"""The promotion rule: when a candidate becomes ``@champion``.

A candidate is promoted only if, on the *same* backtest windows and the primary metric
(lower is better):

1. it is strictly better than the seasonal-naive baseline, and
2. it is at least as good as the current champion's configuration, re-backtested on
   those windows. A tie is promoted: the candidate was trained on fresher data (this is
   what happens every day when the champion's own configuration wins again).

With no champion yet, rule 1 alone decides. Stages are never used; only the alias.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

__all__ = ["CHAMPION_ALIAS", "PromotionDecision", "decide_promotion"]

CHAMPION_ALIAS = "champion"


@dataclass(frozen=True)
class PromotionDecision:
    """Outcome of :func:`decide_promotion`, with the numbers behind it."""

    promote: bool
    reason: str
    metric: str
    candidate: float
    baseline: float
    champion: float | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


def decide_promotion(
    metric: str,
    candidate: float,
    baseline: float,
    champion: float | None,
    candidate_is_baseline: bool = False,
) -> PromotionDecision:
    """Apply the promotion rule (see module docstring).

    Args:
        metric: Primary metric name (lower is better).
        candidate: Candidate's backtest score.
        baseline: Seasonal naive's score on the same windows.
        champion: Current champion configuration's score on the same windows, or ``None``
            if there is no champion.
        candidate_is_baseline: The candidate *is* seasonal naive (nothing beat it).

    Returns:
        The decision and a one-line reason.
    """

    def fmt(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.4f}"

    def decision(promote: bool, reason: str) -> PromotionDecision:
        return PromotionDecision(promote, reason, metric, candidate, baseline, champion)

    if not math.isfinite(candidate):
        return decision(False, f"candidate {metric} is {candidate}: not promoted")
    if candidate_is_baseline or not candidate < baseline:
        return decision(
            False,
            f"candidate {metric} {fmt(candidate)} does not beat seasonal naive {fmt(baseline)}: not promoted",
        )
    if champion is not None and math.isfinite(champion) and candidate > champion:
        return decision(
            False,
            f"candidate {metric} {fmt(candidate)} is worse than the champion's {fmt(champion)} "
            "on the same windows: not promoted",
        )
    versus = "no champion yet" if champion is None else f"champion {fmt(champion)}"
    return decision(
        True,
        f"candidate {metric} {fmt(candidate)} beats seasonal naive {fmt(baseline)} and {versus}: promoted",
    )
