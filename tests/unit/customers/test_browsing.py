"""Web behaviour in the customer models: browsing features, the session candidate, the
sequence model and the extraction of identified customers' events."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pandas as pd
import pytest

from forecasting.behaviour.events import CUSTOMER_COLUMNS
from forecasting.customers.extract import read_customer_events
from forecasting.customers.features import (
    BROWSING_FEATURES,
    BROWSING_LOOKBACK,
    FEATURE_NAMES,
    LINE_COLUMNS,
    customer_features,
)
from forecasting.customers.privacy import pseudonymise
from forecasting.customers.recommend import Recommender
from forecasting.customers.sequence import SequenceModel
from forecasting.db import make_engine
from forecasting.sources import load_shop

CUTOFF = pd.Timestamp("2024-03-31")


def _lines(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """Purchases ``(customer, order, day, sku)``, one unit at 10."""
    frame = pd.DataFrame(rows, columns=["customer", "order", "ds", "sku"])
    frame["ds"] = pd.to_datetime(frame["ds"])
    frame = frame.assign(category="toys", quantity=1, unit_price=10.0, cancelled=0)
    return frame.loc[:, list(LINE_COLUMNS)]


def _events(rows: list[tuple[str, str, str, str, int]]) -> pd.DataFrame:
    """Aggregated events ``(customer, sku, day, type, count)``."""
    frame = pd.DataFrame(rows, columns=["customer", "sku", "ds", "event_type", "events"])
    frame["ds"] = pd.to_datetime(frame["ds"])
    frame["events"] = frame["events"].astype("int64")
    frame["last_at"] = frame["ds"] + pd.Timedelta(hours=12)
    return frame.loc[:, list(CUSTOMER_COLUMNS)]


LINES = _lines(
    [
        ("a", "o1", "2024-01-10", "X"),
        ("a", "o2", "2024-03-29", "Y"),  # Y carted on 03-20, bought 03-29: not abandoned
        ("b", "o3", "2024-02-01", "X"),
        ("c", "o4", "2024-02-15", "Z"),
    ]
)
EVENTS = _events(
    [
        ("a", "Y", "2024-03-20", "cart_add", 1),
        ("a", "Z", "2024-03-26", "cart_add", 2),  # never bought: abandoned
        ("a", "Z", "2024-03-28", "view", 3),
        ("a", "X", "2024-03-10", "view", 4),
        ("b", "Y", "2024-03-30", "view", 1),
        ("a", "X", "2024-04-01", "cart_add", 9),  # after the cutoff: never seen
        ("b", "X", "2024-04-02", "view", 50),  # after the cutoff: never seen
        ("x", "X", "2024-02-20", "view", 1),  # older than the look-back: starts the log
    ]
)


def test_browsing_features_values_and_no_leak() -> None:
    x = customer_features(LINES, CUTOFF, ["toys"], EVENTS)
    assert list(x.columns) == [*FEATURE_NAMES, *BROWSING_FEATURES]
    a, b, c = x.loc["a"], x.loc["b"], x.loc["c"]
    assert (a["has_browsing"], b["has_browsing"], c["has_browsing"]) == (1.0, 1.0, 0.0)
    assert (a["days_since_view"], a["days_since_cart_add"]) == (3.0, 5.0)
    assert (a["views_7"], a["views_28"], a["cart_adds_7"], a["cart_adds_28"]) == (3, 7, 2, 3)
    assert a["abandoned_carts_28"] == 1.0
    assert (b["days_since_view"], b["views_28"]) == (1.0, 1.0)
    # Without events in the look-back: neutral values.
    assert b["days_since_cart_add"] == BROWSING_LOOKBACK and b["cart_adds_28"] == 0
    assert c["days_since_view"] == BROWSING_LOOKBACK and c["views_28"] == 0
    # Events after the cutoff change nothing.
    past = customer_features(LINES, CUTOFF, ["toys"], EVENTS.loc[EVENTS["ds"] <= CUTOFF])
    pd.testing.assert_frame_equal(x, past)
    # Without events: exactly the features without an event log.
    plain = customer_features(LINES, CUTOFF, ["toys"])
    pd.testing.assert_frame_equal(plain, x.loc[:, list(FEATURE_NAMES)])


def test_browsing_features_unknown_before_the_log_starts() -> None:
    late = EVENTS.loc[EVENTS["ds"] >= "2024-03-20"]  # the look-back starts 03-04
    x = customer_features(LINES, CUTOFF, ["toys"], late)
    assert x[list(BROWSING_FEATURES)].isna().all().all()


def test_session_candidate_ranks_recent_unbought_products() -> None:
    lines = _lines(
        [
            ("a", "o1", "2024-03-01", "P"),
            ("a", "o2", "2024-03-30", "Q"),
            ("b", "o3", "2024-03-02", "R"),
            ("b", "o4", "2024-03-03", "S"),
        ]
    )
    events = _events(
        [
            ("a", "R", "2024-03-30", "view", 1),  # yesterday
            ("a", "S", "2024-03-20", "view", 2),  # older, twice
            ("a", "P", "2024-03-25", "cart_add", 1),  # a cart add weighs 3 views
            ("a", "Q", "2024-03-29", "view", 5),  # bought the day after: not a candidate
            ("a", "S", "2024-02-01", "view", 9),  # before the session window
        ]
    )
    model = Recommender("session", {"session_halflife": 7.0, "cart_weight": 3.0})
    recs = model.fit(lines, CUTOFF).recommend(lines, CUTOFF, events=events)
    mine = recs.loc[recs["customer"] == "a"].sort_values("rank")
    # P: 3 * 0.5 ** (6 / 7) = 1.65; R: 0.5 ** (1 / 7) = 0.91; S: 2 * 0.5 ** (11 / 7) = 0.67.
    assert mine["sku"].tolist()[:3] == ["P", "R", "S"]
    assert mine["score"].iloc[0] == pytest.approx(3 * 0.5 ** (6 / 7), rel=1e-4)
    assert mine.loc[mine["sku"] == "Q", "score"].iloc[0] < 1e-5  # only the tie-breaker
    others = recs.loc[recs["customer"] == "b", "score"]
    assert (others < 1e-5).all()  # no events: no session score


def test_sequence_model_learns_a_predictable_next_purchase() -> None:
    """Each customer views product i and then buys product i + 1 (mod 6): the next purchase
    is predictable from the last view, and the network finds it."""
    rng = np.random.default_rng(0)
    rows, events = [], []
    day0 = pd.Timestamp("2024-01-01")
    for c in range(120):
        for j in range(4):
            i = int(rng.integers(6))
            day = day0 + pd.Timedelta(days=int(c % 20) + 10 * j)
            events.append((f"c{c}", f"S{i}", str(day.date()), "view", 1))
            rows.append((f"c{c}", f"o{c}-{j}", str(day.date()), f"S{(i + 1) % 6}"))
    lines, ev = _lines(rows), _events(events)
    cutoff = pd.Timestamp("2024-03-15")
    model = SequenceModel(length=3, dim=16, epochs=10, seed=1).fit(lines, ev, cutoff)
    customers = pd.Index(["n1", "n2"])
    probe = _events([("n1", "S2", "2024-03-14", "view", 1), ("n2", "S5", "2024-03-14", "view", 1)])
    items = np.array([f"S{i}" for i in range(6)], dtype=object)
    scores = model.scores(lines, probe, cutoff, customers, items)
    assert scores.shape == (2, 6)
    assert items[scores.argmax(axis=1)].tolist() == ["S3", "S0"]
    assert (scores.max(axis=1) > 1.5 / 6).all()  # well above a uniform guess
    # A customer without any token gets no score; the weights pickle without TensorFlow.
    none = model.scores(lines, probe, cutoff, pd.Index(["nobody"]), items)
    assert (none == 0).all()
    assert "_net" not in model.__getstate__() and model.weights_ is not None


def test_opted_out_customers_events_are_never_read(sqlite_url: str) -> None:
    from tests.unit.extraction.test_extract import tiny_shop

    web = pd.DataFrame(
        {
            "event_id": ["e1", "e2", "e2", "e3", "e4", "e5", "e6"],
            "occurred_at": pd.to_datetime(
                [
                    "2024-01-02 09:00",
                    "2024-01-02 10:00",
                    "2024-01-02 10:00",  # written twice: counted once
                    "2024-01-03 11:00",
                    "2024-01-03 12:00",
                    "2024-01-04 13:00",
                    "2024-01-04 14:00",
                ]
            ),
            "session_id": ["s1", "s1", "s1", "s2", "s3", "s4", "s5"],
            "customer_id": ["c1", "c1", "c1", "c9", None, "c2", "c2"],
            "event_type": ["view", "cart_add", "cart_add", "view", "view", "search", "view"],
            "sku": ["A", "A", "A", "B", "A", None, "B"],
            "location_id": "online",
            "query": [None, None, None, None, None, "toys", None],
        }
    )
    optouts = pd.DataFrame({"customer_id": ["c9"], "opted_out_on": pd.to_datetime(["2024-01-02"])})
    engine = make_engine(sqlite_url)
    shop = dataclasses.replace(tiny_shop(), web_events=web, customer_optouts=optouts)
    load_shop(engine, shop)
    key = b"a key of at least sixteen bytes"
    got = read_customer_events(engine, date(2024, 1, 1), date(2024, 1, 7), key, "UTC", "UTC")
    c1, c2, c9 = pseudonymise(["c1", "c2", "c9"], key).tolist()
    assert list(got.events.columns) == list(CUSTOMER_COLUMNS)
    assert set(got.events["customer"]) == {c1, c2}  # not c9, not the anonymous visitor
    assert c9 not in got.events.to_csv() and "c9" not in set(got.events["customer"])
    rows = got.events.set_index(["customer", "event_type"])["events"].to_dict()
    assert rows == {(c1, "view"): 1, (c1, "cart_add"): 1, (c2, "view"): 1}
    assert got.counts["rows"] == 4 and got.counts["duplicate_events"] == 1
    # A source without events: nothing, exactly as before.
    bare = make_engine(f"sqlite:///{sqlite_url.split('///')[1]}.bare")
    load_shop(bare, tiny_shop())
    empty = read_customer_events(bare, date(2024, 1, 1), date(2024, 1, 7), key, "UTC", "UTC")
    assert empty.events.empty and empty.fingerprint == ""
