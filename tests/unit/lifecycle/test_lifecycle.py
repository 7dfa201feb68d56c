"""The shared model lifecycle: the transaction every publication is, and the version a
decision pins for serving."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest

from forecasting.db import make_engine
from forecasting.lifecycle import serving
from forecasting.lifecycle.promotion import PromotionDecision
from forecasting.lifecycle.publish import TableWrite, publish_in_one_transaction
from forecasting.pipelines.customers.handoffs import Extracted, Trained, Validated
from forecasting.publishing import (
    ensure_forecast_tables,
    publish_customers,
    read_customer_tables,
)

DAY = date(2024, 6, 30)


def _propensity(customers: list[str]) -> pd.DataFrame:
    n = len(customers)
    return pd.DataFrame(
        {
            "customer": customers,
            "probability": [0.1 + 0.8 * i / max(n, 1) for i in range(n)],
            "expected_orders": [1.0] * n,
        }
    )


def _recommendations(customers: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer": customers, "rank": 1, "sku": "s1", "score": 0.5},
    )


def test_a_failure_inside_the_transaction_leaves_every_table_as_it_was(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    versions = {"propensity": "1", "recommendations": "1"}
    publish_customers(
        engine, DAY, _propensity(["a", "b"]), _recommendations(["a", "b"]), versions, []
    )
    writes = [
        TableWrite(f"customers/delete_customer_{t}", {"run_date": DAY.isoformat()}, None, None)
        for t in ("propensity", "recommendations")
    ]

    def boom(conn: object) -> None:
        raise ValueError("fails after the deletes")

    with pytest.raises(ValueError, match="after the deletes"):
        publish_in_one_transaction(engine, writes, "test", then=boom)
    propensity, recs = read_customer_tables(engine, DAY)
    assert sorted(propensity["customer_pseudonym"]) == ["a", "b"] and len(recs) == 2


def test_customers_publish_replaces_the_date_and_forgets_everywhere(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    ensure_forecast_tables(engine)
    v = {"propensity": "1", "recommendations": "1"}
    publish_customers(
        engine, date(2024, 6, 29), _propensity(["a", "b"]), _recommendations(["a"]), v, []
    )
    publish_customers(engine, DAY, _propensity(["a", "b"]), _recommendations(["a"]), v, [])
    rows = publish_customers(
        engine, DAY, _propensity(["b", "c"]), _recommendations(["c"]), v, ["a"]
    )
    assert rows == {
        "customer_propensity": 2,
        "customer_recommendations": 1,
        "forgotten_rows": 2,  # a's propensity and recommendation of the 29th
    }
    propensity, recs = read_customer_tables(engine, DAY)
    assert sorted(propensity["customer_pseudonym"]) == ["b", "c"] and list(recs["sku"]) == ["s1"]
    earlier, earlier_recs = read_customer_tables(engine, date(2024, 6, 29))
    assert list(earlier["customer_pseudonym"]) == ["b"] and earlier_recs.empty


@pytest.mark.parametrize(
    ("promote", "rule", "backfill", "champion", "expected"),
    [
        (True, "no_champion", False, None, "7"),
        (False, "vs_champion", False, "5", "5"),
        (False, "not_backwards", True, "5", "7"),  # a backfill serves its own day
        (False, "beats_baseline", True, "5", None),
        (False, "beats_baseline", False, None, None),
    ],
)
def test_pinned_version(monkeypatch, promote, rule, backfill, champion, expected) -> None:
    calls: list[tuple[str, object]] = []
    import forecasting.registry.models as models

    monkeypatch.setattr(models, "set_version_tags", lambda n, v, t: calls.append(("tags", t)))
    monkeypatch.setattr(models, "set_champion", lambda n, v: calls.append(("champion", v)))
    monkeypatch.setattr("mlflow.set_tag", lambda k, v: calls.append((k, v)))
    decision = PromotionDecision(promote, "why: verdict", rule, "roc_auc", 0.8, 0.7)
    held = SimpleNamespace(version=champion) if champion else None
    pinned = serving.pin_serving_version("m", "7", decision, DAY, held, backfill)  # type: ignore[arg-type]
    assert pinned == expected
    assert ("promotion.rule", rule) in calls
    assert (("champion", "7") in calls) is promote


def test_handoffs_round_trip_through_json() -> None:
    import json

    extracted = Extracted("file:///x", {"lines": 3}, "f", 1, "o", {"files": 0}, "2024-01-01")
    validated = Validated.of(extracted, report_uri="file:///r", customers=2, rules=9)
    assert validated.uri == "file:///x" and validated.rules == 9
    for handoff in (extracted, validated, Trained("3", True, "promoted", run_id="r1")):
        again = type(handoff).from_dict(json.loads(json.dumps(handoff.to_dict())))
        assert again == handoff
