import math
from dataclasses import replace
from datetime import date

from forecasting.config import PromotionPolicy
from forecasting.lifecycle.promotion import Evidence, PromotionDecision
from forecasting.lifecycle.promotion import decide_promotion as decide
from forecasting.registry.promotion import demand_rule

POLICY = PromotionPolicy()
FIRST = Evidence(
    candidate=0.70,
    baseline=0.90,
    bias=0.01,
    candidate_is_baseline=False,
    implausible_series=0,
    data_end=date(2024, 6, 30),
)
WITH_CHAMPION = replace(
    FIRST,
    champion_version="3",
    champion_data_end=date(2024, 6, 23),
    champion_backtest=0.70,
)


def decide_promotion(policy: PromotionPolicy, evidence: Evidence) -> PromotionDecision:
    """The demand rule on the RMSSE, as the register step applies it."""
    return decide(demand_rule(policy, "rmsse"), evidence)


def test_first_model_must_clearly_beat_seasonal_naive() -> None:
    d = decide_promotion(POLICY, FIRST)
    assert d.promote and "no champion yet" in d.reason
    tie = decide_promotion(POLICY, replace(FIRST, candidate=0.89))  # only 1 % better
    assert not tie.promote and tie.rule == "beats_baseline" and "2% better" in tie.reason


def test_absurd_data_is_never_promoted_just_because_it_beats_naive() -> None:
    # The reproduction: RMSSE 3906.3 vs seasonal naive 3906.6.
    d = decide_promotion(POLICY, replace(FIRST, candidate=3906.3, baseline=3906.6))
    assert not d.promote and d.rule == "sane" and "sanity ceiling 1.5" in d.reason


def test_runaway_refits_and_biased_models_are_rejected() -> None:
    runaway = decide_promotion(POLICY, replace(FIRST, implausible_series=1))
    assert not runaway.promote and runaway.rule == "plausible"
    biased = decide_promotion(POLICY, replace(FIRST, bias=0.8))
    assert not biased.promote and biased.rule == "bias"


def test_the_serving_champion_itself_is_the_bar() -> None:
    assert decide_promotion(POLICY, replace(WITH_CHAMPION, candidate=0.71)).promote  # within 2 %
    worse = decide_promotion(POLICY, replace(WITH_CHAMPION, candidate=0.75))
    assert not worse.promote and worse.rule == "vs_champion"
    assert "worse than champion v3's 0.7000 (recorded backtest" in worse.reason


def test_live_accuracy_replaces_the_recorded_backtest_once_enough_actuals_arrived() -> None:
    decayed = replace(WITH_CHAMPION, candidate=0.75, champion_live=0.80, champion_live_days=28)
    d = decide_promotion(POLICY, decayed)
    assert d.promote and d.reference == 0.80 and d.reference_kind == "live over 28 days"
    too_few = replace(decayed, champion_live_days=10)
    assert not decide_promotion(POLICY, too_few).promote


def test_never_backwards() -> None:
    old = replace(WITH_CHAMPION, data_end=date(2024, 6, 19), candidate=0.5)
    d = decide_promotion(POLICY, old)
    assert not d.promote and d.rule == "not_backwards"


def test_baseline_and_broken_scores_are_never_promoted() -> None:
    assert not decide_promotion(POLICY, replace(FIRST, candidate_is_baseline=True)).promote
    assert not decide_promotion(POLICY, replace(FIRST, candidate=math.nan)).promote
