import math

from forecasting.registry.promotion import decide_promotion


def test_first_model_must_beat_seasonal_naive() -> None:
    d = decide_promotion("rmsse", candidate=0.7, baseline=0.9, champion=None)
    assert d.promote and "no champion yet" in d.reason
    d = decide_promotion("rmsse", candidate=0.95, baseline=0.9, champion=None)
    assert not d.promote and "does not beat seasonal naive" in d.reason


def test_candidate_must_match_or_beat_the_champion_on_the_same_windows() -> None:
    assert decide_promotion("rmsse", candidate=0.70, baseline=0.9, champion=0.72).promote
    assert decide_promotion(
        "rmsse", candidate=0.72, baseline=0.9, champion=0.72
    ).promote  # fresher data
    worse = decide_promotion("rmsse", candidate=0.75, baseline=0.9, champion=0.72)
    assert not worse.promote and "worse than the champion's 0.7200" in worse.reason


def test_baseline_and_broken_scores_are_never_promoted() -> None:
    assert not decide_promotion("rmsse", 0.8, 0.8, None, candidate_is_baseline=True).promote
    assert not decide_promotion("rmsse", math.nan, 0.9, None).promote
    assert not decide_promotion(
        "rmsse", 0.9, 0.9, None
    ).promote  # a tie with the baseline is no win
