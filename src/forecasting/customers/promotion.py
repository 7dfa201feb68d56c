"""When a trained customer model becomes ``@champion``: the demand model's rule, for
metrics where higher is better (ROC AUC for propensity, NDCG@10 for recommendations).

Checked in this order; the first that fails rejects the candidate and names itself:

1. **Finite**: the candidate's backtest score is a number.
2. **Not the baseline**: the baseline itself (logistic RFM for propensity, popularity for
   recommendations: what marketing already has) is never promoted. The strong peers
   (BG/NBD, repeat purchases) are candidates like any other and may serve.
3. **Sane**: at least ``floor`` (ROC AUC 0.55), whatever the baseline did.
4. **Better than the baseline** on the same test window by at least ``min_gain``.
5. **Never backwards**: a model whose data ends before the champion's is never promoted.
6. **As good as the serving champion** -- at most ``tolerance`` below its reference score:
   its live score on the 28 days of purchases after the date it last published for
   (out of sample by construction) when there is one, else the backtest score it was
   promoted with.

Stages are never used; only the alias.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from forecasting.registry.promotion import PromotionDecision

__all__ = ["CustomerGate", "decide_customer_promotion"]


@dataclass(frozen=True)
class CustomerGate:
    """Everything the rule looks at (scores: higher is better).

    Attributes:
        metric: ``roc_auc`` or ``ndcg_at_10``.
        candidate: The winner's score on the test window.
        baseline: The best baseline's score on the same window.
        candidate_is_baseline: The winner is a baseline.
        floor: Lowest score ever promoted.
        min_gain: Points the candidate must gain over ``baseline``.
        tolerance: Points the candidate may lose against the champion's reference.
        data_end: The candidate's last day of data.
        champion_version: The serving champion (``None``: none yet).
        champion_data_end: Its last day of data.
        champion_reference: Its live score if known, else its backtest score.
        reference_kind: ``live`` or ``backtest``.
    """

    metric: str
    candidate: float
    baseline: float
    candidate_is_baseline: bool
    floor: float
    min_gain: float
    tolerance: float
    data_end: date
    champion_version: str | None = None
    champion_data_end: date | None = None
    champion_reference: float | None = None
    reference_kind: str | None = None


def decide_customer_promotion(gate: CustomerGate) -> PromotionDecision:
    """Apply the rule of the module docstring."""

    def decision(promote: bool, rule: str, reason: str) -> PromotionDecision:
        return PromotionDecision(
            promote,
            reason,
            rule,
            gate.metric,
            gate.candidate,
            gate.baseline,
            gate.champion_reference,
            gate.reference_kind,
        )

    m, c, b = gate.metric, gate.candidate, gate.baseline
    if not math.isfinite(c):
        return decision(False, "finite", f"the candidate's {m} is not a number")
    if gate.candidate_is_baseline:
        return decision(False, "not_baseline", f"a baseline won the backtest ({m} {c:.4f})")
    if c < gate.floor:
        return decision(False, "sane", f"{m} {c:.4f} is below the floor {gate.floor:.4f}")
    if not math.isfinite(b) or c < b + gate.min_gain:
        return decision(
            False,
            "beats_baseline",
            f"{m} {c:.4f} does not beat the best baseline's {b:.4f} by {gate.min_gain:.4f}",
        )
    if gate.champion_version is None:
        return decision(
            True, "no_champion", f"{m} {c:.4f} beats the best baseline's {b:.4f}; no champion"
        )
    if gate.champion_data_end is not None and gate.data_end < gate.champion_data_end:
        return decision(
            False,
            "not_backwards",
            f"data ends {gate.data_end}, before champion v{gate.champion_version}'s "
            f"{gate.champion_data_end}",
        )
    ref = gate.champion_reference
    if ref is not None and math.isfinite(ref) and c < ref - gate.tolerance:
        return decision(
            False,
            "vs_champion",
            f"{m} {c:.4f} is more than {gate.tolerance:.4f} below champion "
            f"v{gate.champion_version}'s {gate.reference_kind} {ref:.4f}",
        )
    against = "no reference" if ref is None else f"{gate.reference_kind} {ref:.4f}"
    return decision(
        True,
        "vs_champion",
        f"{m} {c:.4f} beats the best baseline's {b:.4f} and is within {gate.tolerance:.4f} of "
        f"champion v{gate.champion_version} ({against})",
    )
