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

from forecasting.config import PromotionPolicy
from forecasting.lifecycle.promotion import PromotionRule

__all__ = ["demand_rule"]


def demand_rule(policy: PromotionPolicy, metric: str) -> PromotionRule:
    """The demand forecast's rule for its primary ``metric`` (lower is better).

    Args:
        policy: The run configuration's promotion thresholds.
        metric: The primary metric (``rmsse`` by default).

    Returns:
        The rule :func:`forecasting.lifecycle.promotion.decide_promotion` applies.
    """
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
