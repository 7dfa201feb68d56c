"""Customer models: pseudonyms, time travel, metrics and the promotion rule."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from forecasting.customers.config import PROPENSITY_MODEL, RECOMMENDATIONS_MODEL, CustomerConfig
from forecasting.customers.features import customer_features, labels
from forecasting.customers.privacy import MissingKeyError, customer_key, pseudonymise
from forecasting.customers.propensity import CutoffPlan, PlattCalibrator, propensity_metrics
from forecasting.customers.recommend_backtest import ranking_metrics
from forecasting.lifecycle.promotion import Evidence, decide_promotion

KEY = b"0123456789abcdef-test"


def test_pseudonyms_are_keyed_stable_and_separated_by_context() -> None:
    ids = pd.Series(["12346", 12346.0, None, "777"])
    first = pseudonymise(ids, KEY)
    assert first.iloc[0] == first.iloc[1]  # 12346.0 is the id 12346
    assert pd.isna(first.iloc[2])
    assert first.iloc[0] != first.iloc[3] and len(first.iloc[0]) == 32
    assert pseudonymise(ids, KEY).equals(first)
    assert pseudonymise(ids, KEY + b"x").iloc[0] != first.iloc[0]
    assert pseudonymise(ids, KEY, "order").iloc[0] != first.iloc[0]


def test_a_missing_or_short_key_is_an_error(monkeypatch) -> None:
    monkeypatch.delenv("FORECASTING_CUSTOMER_KEY", raising=False)
    with pytest.raises(MissingKeyError, match="no customer pseudonymisation key"):
        customer_key()
    with pytest.raises(MissingKeyError, match="at least 16 bytes"):
        customer_key("short")
    monkeypatch.setenv("FORECASTING_CUSTOMER_KEY", "k" * 20)
    assert customer_key() == b"k" * 20


def _lines() -> pd.DataFrame:
    rows = [
        ("a", "o1", "2024-01-01", "s1", 2, 10.0, 0),
        ("a", "o2", "2024-02-01", "s2", 1, 5.0, 0),
        ("a", "o3", "2024-03-10", "s1", 1, 10.0, 0),  # after the cutoff
        ("b", "o4", "2024-01-15", "s1", 1, 10.0, 0),
        ("b", "o5", "2024-02-20", "s3", -1, 10.0, 0),  # a return
        ("c", "o6", "2024-02-25", "s2", 3, 1.0, 1),  # cancelled: not a purchase
    ]
    frame = pd.DataFrame(
        rows, columns=["customer", "order", "ds", "sku", "quantity", "unit_price", "cancelled"]
    )
    return frame.assign(ds=pd.to_datetime(frame["ds"]), category="product")


def test_features_never_see_past_the_cutoff_and_labels_only_after_it() -> None:
    lines = _lines()
    cutoff = pd.Timestamp("2024-03-01")
    x = customer_features(lines, cutoff)
    assert set(x.index) == {"a", "b"}  # c never purchased
    assert x.loc["a", "frequency"] == 2 and x.loc["a", "recency"] == 29
    assert x.loc["a", "monetary"] == 25.0
    assert x.loc["b", "return_rate"] == 1.0  # one returned line per purchased line
    later = lines.assign(quantity=lines["quantity"].where(lines["ds"] <= cutoff, 999))
    pd.testing.assert_frame_equal(customer_features(later, cutoff), x)
    y = labels(lines, cutoff)
    assert list(y.index) == ["a"] and y.loc["a", "orders"] == 1
    assert labels(lines, cutoff, days=5).empty


def test_cutoff_plan_never_trains_or_calibrates_on_a_tested_label_window() -> None:
    plan = CutoffPlan.for_day(date(2024, 6, 30))
    assert plan.test == (date(2024, 6, 2),)
    assert (plan.test[0] - plan.calibration).days == 28
    assert (
        max(plan.train) <= date(2024, 6, 2).replace(day=2) - pd.Timedelta(days=56).to_pytimedelta()
    )
    final = plan.final()
    assert final.calibration == plan.test[0] and not final.test


def test_propensity_metrics() -> None:
    y = np.array([0, 0, 1, 1] * 5)
    p = np.array([0.1, 0.2, 0.8, 0.9] * 5)
    m = propensity_metrics(y, p)
    assert m["roc_auc"] == 1.0 and m["top_decile_lift"] == 2.0 and m["base_rate"] == 0.5


def test_platt_calibration_fixes_overconfident_scores_and_keeps_their_ranking() -> None:
    rng = np.random.default_rng(0)
    truth = rng.uniform(0.05, 0.6, 20_000)
    y = (rng.uniform(size=truth.size) < truth).astype(int)
    logit = np.log(truth / (1 - truth))
    raw = 1 / (1 + np.exp(-(3 * logit + 1)))  # overconfident and shifted
    calibrated = PlattCalibrator().fit(raw, y).predict(raw)
    assert np.abs(raw - truth).mean() > 0.1
    assert np.abs(calibrated - truth).mean() < 0.02
    order = np.argsort(raw)
    assert np.all(np.diff(calibrated[order]) >= 0) and len(np.unique(calibrated)) == len(
        np.unique(raw)
    )
    # One class only: nothing to learn, the scores pass through.
    assert np.allclose(PlattCalibrator().fit(raw, np.zeros_like(y)).predict(raw), raw)


def test_ranking_metrics_count_hits_ndcg_and_discovery() -> None:
    history = pd.DataFrame({"customer": ["a", "b"], "sku": ["s1", "s1"]})
    truth = pd.DataFrame({"customer": ["a", "a", "b"], "sku": ["s1", "s9", "s5"]})
    recs = pd.DataFrame({"customer": ["a", "a", "b"], "rank": [1, 2, 1], "sku": ["s9", "s1", "s2"]})
    m = ranking_metrics(recs, history, truth)
    assert m["hr_at_10"] == 0.5 and m["precision_at_10"] == pytest.approx(0.1)
    assert m["recall_at_10"] == 0.5 and m["ndcg_at_10"] == 0.5
    assert m["discovery_hit_rate"] == 0.5  # a found s9 (new to them); b's s5 was missed


def _gate(**kw) -> Evidence:
    base = dict(
        candidate=0.75, baseline=0.70, candidate_is_baseline=False, data_end=date(2024, 6, 30)
    )
    return Evidence(**{**base, **kw})


@pytest.mark.parametrize(
    ("overrides", "promote", "rule"),
    [
        ({}, True, "no_champion"),
        ({"candidate": float("nan")}, False, "finite"),
        ({"candidate_is_baseline": True}, False, "not_baseline"),
        ({"candidate": 0.52, "baseline": 0.5}, False, "sane"),
        ({"candidate": 0.703}, False, "beats_baseline"),
        (
            {"champion_version": "3", "champion_data_end": date(2024, 7, 7)},
            False,
            "not_backwards",
        ),
        (
            {"champion_version": "3", "champion_live": 0.77, "champion_live_days": 28},
            False,
            "vs_champion",
        ),
        (
            {"champion_version": "3", "champion_live": 0.755, "champion_backtest": 0.9},
            True,
            "vs_champion",
        ),
    ],
)
def test_customer_promotion_rule(overrides, promote, rule) -> None:
    # The demand model's rule, with higher-is-better ROC AUC and gains in points.
    config = CustomerConfig(min_auc=0.55, min_auc_gain=0.005, champion_tolerance=0.01)
    decision = decide_promotion(config.promotion_rule(PROPENSITY_MODEL), _gate(**overrides))
    assert (decision.promote, decision.rule) == (promote, rule), decision.reason


def test_recommendations_rule_has_no_floor_and_compares_ndcg() -> None:
    rule = CustomerConfig(min_ndcg_gain=0.0).promotion_rule(RECOMMENDATIONS_MODEL)
    assert (rule.metric, rule.direction, rule.sane_limit) == ("ndcg_at_10", "higher", None)
    decision = decide_promotion(rule, _gate(candidate=0.05, baseline=0.04))
    assert decision.promote and decision.rule == "no_champion"
    worse = decide_promotion(rule, _gate(candidate=0.05, baseline=0.06))
    assert not worse.promote and "not 0.0000 better than the best baseline 0.0600" in worse.reason


def test_a_failed_bgnbd_fit_is_one_log_line_not_an_optimizer_dump(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog
) -> None:
    import logging

    from lifetimes import BetaGeoFitter
    from lifetimes.utils import ConvergenceError

    from forecasting.customers.bgnbd import fit_bgnbd

    real_fit = BetaGeoFitter.fit

    def flaky_fit(self, *args, **kwargs):
        if self.penalizer_coef < 0.01:  # what lifetimes does when SciPy gives up
            print("  message: Desired error not necessarily achieved\n  success: False\n  fun: nan")
            raise ConvergenceError("The model did not converge.")
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(BetaGeoFitter, "fit", flaky_fit)
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, 600), unit="D")
    lines = pd.DataFrame(
        {
            "customer": [f"c{i % 60}" for i in range(600)],
            "order": [f"o{i}" for i in range(600)],
            "ds": days,
            "sku": "s1",
            "category": "a",
            "quantity": 1,
            "unit_price": 2.0,
            "cancelled": False,
        }
    )
    with caplog.at_level(logging.INFO, logger="forecasting.customers.bgnbd"):
        fitter, _ = fit_bgnbd(lines, pd.Timestamp("2024-10-01"))
    assert fitter.penalizer_coef == 0.01
    assert capsys.readouterr().out == ""
    [line] = [r.getMessage() for r in caplog.records]
    assert "cutoff 2024-10-01" in line and "NaN likelihood" in line
    assert "fell back to penalizer 0.01" in line
