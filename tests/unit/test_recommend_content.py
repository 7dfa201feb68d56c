"""Recommendations that discover: the content candidate, discovery slots in the blend, the
new-item hit rate, and the catalogue's text the customers pipeline extracts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from forecasting.customers.recommend import Recommender, slotted_top_k
from forecasting.customers.recommend_backtest import (
    _Targets,
    _tune_blend,
    _window,
    fit_text_model,
    ranking_metrics,
)
from forecasting.text.embedding import TextEmbedding

CUTOFF = date(2024, 3, 31)

PRODUCTS = pd.DataFrame(
    {
        "sku": ["cup-red", "cup-blue", "cup-green", "hose", "rake", "spade", "candle", "lamp"],
        "name": [
            "red ceramic tea cup",
            "blue ceramic tea cup",
            "green ceramic tea cup",
            "garden hose reel",
            "garden leaf rake",
            "garden steel spade",
            "scented candle jar",
            "bedside lamp shade",
        ],
        "description": None,
        "category": ["kitchen"] * 3 + ["garden"] * 3 + ["home"] * 2,
    }
)


def _lines(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer", "sku", "ds"])
    return frame.assign(
        order=frame["customer"] + "-" + frame["ds"],
        ds=pd.to_datetime(frame["ds"]),
        category="product",
        quantity=1,
        unit_price=1.0,
        cancelled=0,
    )


def _shop() -> pd.DataFrame:
    rows = [("tea", "cup-red", "2024-03-01"), ("garden", "hose", "2024-03-02")]
    # Everyone else has bought every product once, so all are known and popular alike.
    rows += [(f"x{i}", sku, "2024-01-10") for i in range(3) for sku in PRODUCTS["sku"]]
    return _lines(rows)


def test_content_recommends_products_whose_text_is_close_and_leaves_out_bought_ones() -> None:
    text = TextEmbedding.fit(PRODUCTS)
    model = Recommender("content", {"halflife": 30.0, "neighbours": 3}).fit(_shop(), CUTOFF, text)
    recs = model.recommend(_shop(), CUTOFF, k=3)
    tea = recs.loc[recs["customer"] == "tea", "sku"].tolist()
    garden = recs.loc[recs["customer"] == "garden", "sku"].tolist()
    assert set(tea[:2]) == {"cup-blue", "cup-green"}  # the other tea cups first
    assert set(garden[:2]) == {"rake", "spade"}
    assert "cup-red" not in tea and "hose" not in garden  # bought: not for discovery


def test_content_needs_the_text_model() -> None:
    with pytest.raises(ValueError, match="pass the catalogue's text model"):
        Recommender("content", {}).fit(_shop(), CUTOFF)
    assert fit_text_model(None) is None and fit_text_model(PRODUCTS.iloc[:0]) is None


def test_slotted_top_k_reserves_the_last_ranks_for_new_products() -> None:
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.1], [0.5, 0.4, 0.3, 0.2, 0.1]])
    new_scores = np.array([[0.0, 0.0, 0.2, 0.9, 0.5], [0.0, 0.0, 0.0, 0.0, 0.0]])
    new = np.array([[False, False, True, True, True], [False, False, False, False, True]])
    items = np.array(["a", "b", "c", "d", "e"], dtype=object)
    out = slotted_top_k(scores, new_scores, new, pd.Index(["u", "v"]), items, k=4, slots=2)
    u = out.loc[out["customer"] == "u"]
    assert u["sku"].tolist() == ["a", "b", "d", "e"]  # d, e: the best new after the head
    assert u["rank"].tolist() == [1, 2, 3, 4]
    assert u["score"].tolist() == pytest.approx([0.9, 0.8, 0.9, 0.5])
    # v has one new product: it takes one slot, the blend's next best the other.
    assert out.loc[out["customer"] == "v", "sku"].tolist() == ["a", "b", "e", "c"]
    plain = slotted_top_k(scores, new_scores, new, pd.Index(["u", "v"]), items, k=4, slots=0)
    assert plain.loc[plain["customer"] == "u", "sku"].tolist() == ["a", "b", "c", "d"]


def test_slotted_top_k_takes_a_number_of_slots_per_customer() -> None:
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.1], [0.9, 0.8, 0.7, 0.6, 0.1]])
    new_scores = np.array([[0.0, 0.0, 0.2, 0.9, 0.5], [0.0, 0.0, 0.2, 0.9, 0.5]])
    new = np.array([[False, False, True, True, True], [False, False, True, True, True]])
    items = np.array(["a", "b", "c", "d", "e"], dtype=object)
    out = slotted_top_k(scores, new_scores, new, pd.Index(["u", "v"]), items, 4, np.array([2, 0]))
    assert out.loc[out["customer"] == "u", "sku"].tolist() == ["a", "b", "d", "e"]
    assert out.loc[out["customer"] == "v", "sku"].tolist() == ["a", "b", "c", "d"]


def test_discovery_groups_give_customers_with_weak_repeat_lists_more_slots() -> None:
    lines = _shop()
    params = {
        "halflife": 90.0,
        "factors": 4,
        "iterations": 2,
        "neighbours": 3,
        "weights": {"repeat": 1.0, "popularity": 0.5},
        "discovery_slots": 2,
        "discovery_weights": {"content": 1.0},
        # Every customer's strongest product is above 0: one group, two slots.
        "discovery_groups": {"edges": [0.0], "slots": [0, 2]},
    }
    model = Recommender("blend", params).fit(lines, CUTOFF, TextEmbedding.fit(PRODUCTS))
    _customers, matrix = model._customer_matrix(lines, pd.Timestamp(CUTOFF))
    assert model.discovery_slots == 2 and set(model.slots_of(matrix)) == {2}
    grouped = model.recommend(lines, CUTOFF, k=3)
    fixed = Recommender("blend", {k: v for k, v in params.items() if k != "discovery_groups"})
    fixed.fit(lines, CUTOFF, TextEmbedding.fit(PRODUCTS))
    pd.testing.assert_frame_equal(grouped, fixed.recommend(lines, CUTOFF, k=3))
    none = Recommender("blend", {**params, "discovery_groups": {"edges": [1e9], "slots": [0, 2]}})
    none.fit(lines, CUTOFF, TextEmbedding.fit(PRODUCTS))
    _customers, matrix = none._customer_matrix(lines, pd.Timestamp(CUTOFF))
    assert set(none.slots_of(matrix)) == {0}  # all below the edge: the first group's 0


def test_a_blend_with_discovery_slots_shows_new_products_in_its_last_ranks() -> None:
    lines = _shop()
    params = {
        "halflife": 90.0,
        "factors": 4,
        "iterations": 2,
        "neighbours": 3,
        "weights": {"repeat": 1.0, "popularity": 0.5},
        "discovery_slots": 2,
        "discovery_weights": {"content": 1.0},
    }
    model = Recommender("blend", params).fit(lines, CUTOFF, TextEmbedding.fit(PRODUCTS))
    recs = model.recommend(lines, CUTOFF, k=3)
    tea = recs.loc[recs["customer"] == "tea"].sort_values("rank")
    assert tea["sku"].iloc[0] == "cup-red"  # the repeat purchase leads
    assert set(tea["sku"].iloc[1:]) == {"cup-blue", "cup-green"}  # slots: text neighbours
    assert model.needs() == {"repeat", "popularity", "content"}


def _random_shop(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    skus = [f"s{i:02d}" for i in range(30)]
    words = ["cup", "mug", "hose", "rake", "lamp", "jar"]
    products = pd.DataFrame(
        {
            "sku": skus,
            "name": [f"{words[i % 6]} {words[(i * 7) % 6]} model {i % 5}" for i in range(30)],
            "description": None,
            "category": [f"c{i % 3}" for i in range(30)],
        }
    )
    days = pd.date_range("2024-01-01", "2024-04-27")
    rows = []
    for c in range(60):
        taste = rng.choice(30, 6, replace=False)
        for _ in range(rng.integers(4, 14)):
            rows.append(
                (f"c{c:02d}", skus[rng.choice(taste)], str(days[rng.integers(len(days))].date()))
            )
    return _lines(rows), products


def test_fast_tuning_metrics_equal_ranking_metrics() -> None:
    lines, _products = _random_shop()
    cutoff = pd.Timestamp("2024-03-30")
    history, truth = _window(lines, cutoff)
    model = Recommender("repeat", {"halflife": 30.0}).fit(lines, cutoff)
    customers, matrix = model._customer_matrix(history, cutoff)
    keep = np.flatnonzero(customers.isin(truth["customer"].unique()))
    customers, matrix = customers[keep], matrix[keep]
    positions = np.random.default_rng(1).permuted(
        np.tile(np.arange(len(model.items)), (len(customers), 1)), axis=1
    )[:, :10]
    recs = pd.DataFrame(
        {
            "customer": np.repeat(customers.to_numpy(), 10),
            "rank": np.tile(np.arange(1, 11), len(customers)),
            "sku": model.items[positions.ravel()],
        }
    )
    slow = ranking_metrics(recs, history, truth)
    fast = _Targets.of(customers, model.items, matrix, history, truth).score(positions)
    for name in ("ndcg_at_10", "hr_at_10", "new_item_hit_rate"):
        assert fast[name] == pytest.approx(slow[name])
    assert 0 < slow["new_item_hit_rate"] <= slow["discovery_hit_rate"]


def test_tuned_slots_keep_ndcg_at_repeats_or_take_the_fixed_number() -> None:
    lines, products = _random_shop()
    text = fit_text_model(products)
    params = {
        "repeat": {"halflife": 30.0},
        "als": {"factors": 4, "iterations": 2, "regularization": 0.1, "alpha": 5.0},
        "content": {"halflife": 30.0, "neighbours": 5},
    }
    cutoff = pd.Timestamp("2024-03-30")
    fixed = _tune_blend(lines, cutoff, params, 0, text, discovery_slots=3)
    assert fixed["discovery_slots"] == 3 and any(fixed["discovery_weights"].values())
    assert "discovery_groups" not in fixed  # a fixed number is the same for everyone
    tuned = _tune_blend(lines, cutoff, params, 0, text, discovery_target=0.2)
    groups = tuned.get("discovery_groups", {"slots": [tuned["discovery_slots"]], "edges": []})
    assert len(groups["edges"]) == len(groups["slots"]) - 1
    assert tuned["discovery_slots"] == max(groups["slots"])
    history, truth = _window(lines, cutoff)
    blend = Recommender("blend", tuned).fit(lines, cutoff, text)
    repeat = Recommender("repeat", {"halflife": 30.0}).fit(lines, cutoff)
    got = ranking_metrics(blend.recommend(lines, cutoff), history, truth)
    floor = ranking_metrics(repeat.recommend(lines, cutoff), history, truth)
    assert got["ndcg_at_10"] >= floor["ndcg_at_10"] - 1e-9


def test_ranking_metrics_new_item_hit_rate_counts_every_evaluated_customer() -> None:
    history = pd.DataFrame({"customer": ["a", "b", "c"], "sku": ["s1", "s1", "s1"]})
    truth = pd.DataFrame({"customer": ["a", "a", "b", "c"], "sku": ["s1", "s9", "s5", "s1"]})
    recs = pd.DataFrame({"customer": ["a", "b", "c"], "rank": [1, 1, 1], "sku": ["s9", "s2", "s1"]})
    m = ranking_metrics(recs, history, truth)
    assert m["new_item_hit_rate"] == pytest.approx(1 / 3)  # a, of a, b and c
    assert m["discovery_hit_rate"] == 0.5  # a, of a and b (c bought nothing new)
    assert m["customers_with_new_items"] == 2


def test_the_pipeline_extracts_the_catalogues_text(sqlite_url: str) -> None:
    from forecasting.db import make_engine
    from forecasting.pipelines.customers.steps.extract import read_customer_products
    from forecasting.sources.shop import create_source_tables

    engine = make_engine(sqlite_url)
    create_source_tables(engine)
    rows = PRODUCTS.assign(list_price=1.0, launched_on=None).iloc[:2]
    other = rows.iloc[:1].assign(sku="fee", name="postage", category="non-product")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO products (sku, name, description, category, list_price, "
                "launched_on) VALUES (:sku, :name, :description, :category, :list_price, "
                ":launched_on)"
            ),
            pd.concat([rows, other]).to_dict("records"),
        )
    products = read_customer_products(engine)
    assert products.columns.tolist() == ["sku", "name", "description", "category"]
    assert products["sku"].tolist() == ["cup-blue", "cup-red"]  # no non-products
    assert TextEmbedding.fit(products).vectors.shape[0] == 2


def test_the_logged_recommender_carries_its_text_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from forecasting.customers import serving

    lines, products = _random_shop()
    params = {
        "halflife": 30.0,
        "neighbours": 5,
        "weights": {"repeat": 1.0},
        "discovery_slots": 3,
        "discovery_weights": {"content": 1.0},
    }
    model = Recommender("blend", params).fit(lines, CUTOFF, fit_text_model(products))
    logged: dict[str, str] = {}

    def log_pyfunc_model(  # MLflow's part
        python_model: object, *, save_artifacts: Callable[[Path], dict[str, str]], **kwargs: object
    ) -> str:
        logged.update(save_artifacts(tmp_path))
        return "runs:/x/model"

    monkeypatch.setattr(serving, "log_pyfunc_model", log_pyfunc_model)
    monkeypatch.setattr(serving, "pinned_requirements", lambda packages: [])
    serving.log_customer_model(model, "model", lines, CUTOFF.isoformat())
    assert sorted(logged) == ["model", "text_model"]
    served = serving.CustomerModel()
    served.load_context(SimpleNamespace(artifacts=logged))
    assert isinstance(served.model.text, TextEmbedding)  # back from its own artifact
    got = served.predict(None, lines, {"cutoff": CUTOFF.isoformat()})
    pd.testing.assert_frame_equal(got, model.recommend(lines, CUTOFF), check_dtype=False)
