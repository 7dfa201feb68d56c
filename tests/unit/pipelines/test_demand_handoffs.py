"""The demand pipeline's hand-offs survive XCom: JSON and back, equal, in the old shape."""

from __future__ import annotations

import json
from datetime import date

import pytest

from forecasting.extraction import ExtractWindow
from forecasting.pipelines.demand.handoffs import (
    Backtested,
    ChampionFacts,
    Checked,
    Extracted,
    Features,
    Fitted,
    HandOff,
    Monitored,
    Registered,
    WorkOrder,
)
from forecasting.sharding import Shard
from forecasting.training.cadence import TrainingDecision
from forecasting.training.plan import TrainingPlan

WINDOW = ExtractWindow.for_logical_date(date(2024, 6, 30), 420, 14)
SHARD = Shard(1, 2)
DECISION = TrainingDecision(False, "the champion is fresh", "fresh_champion", "3")


def checked(champion: ChampionFacts | None) -> Checked:
    return Checked(
        report_uri="file:///runs/check/validation.json",
        fingerprint="f" * 64,
        series=12,
        active_series=10,
        rows=5040,
        config_hash="c" * 16,
        decision=DECISION,
        plan=_plan(),
        champion=champion,
        cleaning={"outlier_days": 1.0},
        quality={"future_orders": 0},
        sync={"rows": 100, "rows_per_second": 50.0},
        window=WINDOW,
        warnings=2,
        published={"previous": None, "same_date": None},
        validation_reports=["file:///runs/validate/shard=0-of-2/validation.json"],
    )


def _plan() -> TrainingPlan:
    from forecasting.config import PipelineConfig
    from forecasting.training.plan import plan_training

    return plan_training(400, PipelineConfig(history_days=420, horizon=14, n_windows=2))


CASES: list[HandOff] = [
    WorkOrder(SHARD, "file:///c", "file:///s", WINDOW, {"future_orders": 1}, {"rows": 3}),
    Extracted("file:///e", SHARD, WINDOW, 10, 2, 0, "abc", "file:///c", {"outlier_days": 1.0}),
    checked(None),
    checked(ChampionFacts("3", "2024-06-01", None, {"rmsse": 0.8})),
    Features("file:///f", SHARD, 0),
    Backtested(SHARD, uri="file:///b", series=4, live_days=3),
    Fitted(SHARD, uri="file:///fit", winner="linear", plausibility={"implausible": 0}),
    Registered("3", False, "reuse", "", DECISION),
    Monitored(10, 1, 5, ["2024-06-03", "2024-06-30"], "file:///m", None),
]


@pytest.mark.parametrize("handoff", CASES, ids=lambda h: type(h).__name__)
def test_a_handoff_survives_json_and_comes_back_equal(handoff: HandOff) -> None:
    data = json.loads(json.dumps(handoff.to_dict()))
    assert type(handoff).from_dict(data) == handoff


def test_the_xcom_shape_is_what_the_steps_passed_before() -> None:
    order = CASES[0].to_dict()
    assert order["shard"] == {"index": 1, "count": 2} and order["window"] == WINDOW.to_dict()
    check = checked(None).to_dict()
    assert check["decision"] == DECISION.to_dict() and check["champion"] is None
    assert len(check) == 16


def test_a_skipped_shard_is_only_its_shard_and_reason() -> None:
    skipped = Backtested(SHARD, skipped=True, reason="the shard has no series")
    assert skipped.to_dict() == {
        "shard": {"index": 1, "count": 2},
        "skipped": True,
        "reason": "the shard has no series",
    }
    assert Backtested.from_dict(skipped.to_dict()) == skipped
    assert "skipped" not in Fitted(SHARD, uri="file:///f", winner="hgb").to_dict()
