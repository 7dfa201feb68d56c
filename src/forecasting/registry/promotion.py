"""The promotion rule: when a trained candidate becomes ``@champion``.

Checked in this order (thresholds in :class:`forecasting.config.PromotionPolicy`); the
first that fails rejects the candidate and names itself in the reason:

1. **Finite**: the candidate's backtest score is a number.
2. **Not the baseline**: some model beat seasonal naive at all.
3. **Sane**: its primary metric is at most ``max_primary_metric`` (RMSSE 1.5), however bad
   the baseline is on the same data -- a run on absurd data is never promoted just
   because it beats seasonal naive by a hair.
4. **Better than seasonal naive** by at least ``min_gain_vs_naive`` on the same windows.
5. **Unbiased enough**: ``|bias| <= max_abs_bias``.
6. **Plausible refit**: the model that gets registered (the winner refitted on all
   history, which no backtest saw) forecasts no series above ``plausibility_factor``
   times its largest daily demand of the last year, and nothing NaN or infinite.
7. **Never backwards**: a model whose data ends before the champion's (a backfill or a
   re-run of an old date) is never promoted.
8. **As good as the serving champion** -- the version itself, not its configuration
   refitted: at most ``champion_tolerance`` worse than the champion's reference score,
   which is its accuracy on the actuals that arrived since it was promoted when there are
   at least ``min_live_days`` days of them, else the backtest score it was promoted with.
   Within the tolerance the candidate wins because it was trained on fresher data.

With no champion yet, rules 1-6 decide. Stages are never used; only the alias.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date

from forecasting.config import PromotionPolicy

__all__ = ["CHAMPION_ALIAS", "GateInputs", "PromotionDecision", "decide_promotion"]

CHAMPION_ALIAS = "champion"


@dataclass(frozen=True)
class GateInputs:
    """Everything the rule looks at.

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


def decide_promotion(policy: PromotionPolicy, gate: GateInputs) -> PromotionDecision:
    """Apply the promotion rule (see the module docstring)."""
    m, cand, base = gate.metric, gate.candidate, gate.baseline

    def decide(
        promote: bool,
        rule: str,
        reason: str,
        reference: float | None = None,
        kind: str | None = None,
    ) -> PromotionDecision:
        verdict = "promoted" if promote else "not promoted"
        return PromotionDecision(
            promote, f"{reason}: {verdict}", rule, m, cand, base, reference, kind
        )

    if not math.isfinite(cand):
        return decide(False, "finite", f"candidate {m} is {cand}")
    if gate.candidate_is_baseline:
        return decide(
            False, "not_baseline", f"no candidate beats seasonal naive ({m} {_fmt(base)})"
        )
    if cand > policy.max_primary_metric:
        return decide(
            False,
            "sane",
            f"candidate {m} {_fmt(cand)} is above the sanity ceiling {policy.max_primary_metric}",
        )
    needed = base * (1.0 - policy.min_gain_vs_naive)
    if not cand <= needed:
        return decide(
            False,
            "beats_naive",
            f"candidate {m} {_fmt(cand)} is not {policy.min_gain_vs_naive:.0%} better than "
            f"seasonal naive {_fmt(base)} (needed <= {_fmt(needed)})",
        )
    if not abs(gate.bias) <= policy.max_abs_bias:
        return decide(
            False,
            "bias",
            f"candidate bias {gate.bias:+.3f} exceeds +/-{policy.max_abs_bias}",
        )
    if gate.implausible_series:
        return decide(
            False,
            "plausible",
            f"the refit forecasts {gate.implausible_series} series above "
            f"{policy.plausibility_factor:g} x their largest daily demand of the last year",
        )
    if gate.champion_version is None:
        return decide(
            True,
            "champion",
            f"candidate {m} {_fmt(cand)} beats seasonal naive {_fmt(base)}; no champion yet",
        )
    if gate.champion_data_end is not None and gate.data_end < gate.champion_data_end:
        return decide(
            False,
            "not_backwards",
            f"candidate data ends {gate.data_end}, before champion v{gate.champion_version}'s "
            f"{gate.champion_data_end} (a backfill or an old date re-run never moves @champion)",
        )
    live_enough = gate.champion_live is not None and gate.champion_live_days >= policy.min_live_days
    if live_enough:
        reference, kind = gate.champion_live, f"live over {gate.champion_live_days} days"
    else:
        reference, kind = gate.champion_backtest, "recorded backtest"
    if reference is None or not math.isfinite(reference):
        return decide(
            True,
            "champion",
            f"candidate {m} {_fmt(cand)} beats seasonal naive {_fmt(base)}; champion "
            f"v{gate.champion_version} has no recorded {m} to compare with",
        )
    limit = reference * (1.0 + policy.champion_tolerance)
    if cand > limit:
        return decide(
            False,
            "champion",
            f"candidate {m} {_fmt(cand)} is worse than champion v{gate.champion_version}'s "
            f"{_fmt(reference)} ({kind}; tolerance {policy.champion_tolerance:.0%})",
            reference,
            kind,
        )
    return decide(
        True,
        "champion",
        f"candidate {m} {_fmt(cand)} beats seasonal naive {_fmt(base)} and is within "
        f"{policy.champion_tolerance:.0%} of champion v{gate.champion_version}'s {_fmt(reference)} "
        f"({kind})",
        reference,
        kind,
    )
