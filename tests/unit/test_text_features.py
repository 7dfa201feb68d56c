"""Text and review features: attached to the panel, declared in the spec, no leakage."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from forecasting.artifacts import FEATURES_CATALOGUE, FEATURES_SENTIMENT_MODEL, FEATURES_TEXT_MODEL
from forecasting.features import FeatureSpec, Panel, build_features
from forecasting.features.direct import Rows, scoring_rows
from forecasting.features.text import (
    ATTACHED_DIMENSIONS,
    ATTACHED_NEIGHBOURS,
    attach_reviews,
    attach_text,
    has_text,
    informative_text,
    neighbour_positions,
)
from forecasting.text import TextEmbedding

CATALOGUE = pd.DataFrame(
    {
        "sku": ["A", "B", "C", "D", "E", "F"],
        "name": [
            "red heart candle holder",
            "red heart candle lantern",
            "blue ceramic coffee mug",
            "blue ceramic tea mug",
            "wooden garden chair",
            "wooden garden table",
        ],
        "description": ["", "", "", "", "", ""],
        "category": ["home", "home", "kitchen", "kitchen", "garden", "garden"],
    }
)
DAYS = 200


def _panel(skus: tuple[str, ...] = ("A", "B", "C", "D", "E", "F"), locations: int = 2) -> Panel:
    """Every SKU at ``locations`` stores, demand = 1 + SKU position (+ 10 at store 1)."""
    dates = pd.date_range("2024-01-01", periods=DAYS, freq="D")
    frames = []
    for loc in range(locations):
        for i, sku in enumerate(skus):
            frames.append(
                pd.DataFrame(
                    {
                        "unique_id": f"{sku}@{loc}",
                        "sku": sku,
                        "location_id": f"store-{loc}",
                        "ds": dates[:-14],
                        "y": float(1 + i + 10 * loc),
                    }
                )
            )
    history = pd.concat(frames, ignore_index=True)
    future = history.drop_duplicates("unique_id")[["unique_id", "sku", "location_id"]]
    future = future.merge(pd.DataFrame({"ds": dates[-14:]}), how="cross")
    return Panel.from_long(history, future)


@pytest.fixture(scope="module")
def embedding() -> TextEmbedding:
    return TextEmbedding.fit(CATALOGUE, dimensions=4)


def test_attach_text_puts_components_and_same_location_neighbours(
    embedding: TextEmbedding,
) -> None:
    panel = attach_text(_panel(), embedding)
    ids = panel.ids
    assert has_text(panel) and not has_text(_panel())
    assert [f"text_{j}" for j in range(ATTACHED_DIMENSIONS)] == [
        c for c in ids.columns if c.startswith("text_") and not c.startswith("text_nb_")
    ]
    # The embedding has 4 components: the rest are zero.
    first = ids.loc[ids["unique_id"] == "A@0", "text_0":"text_3"].to_numpy(dtype=float)[0]
    np.testing.assert_allclose(first, embedding.vectors_of(["A"])[0], rtol=1e-6)
    assert (ids.loc[:, "text_4":"text_15"].to_numpy() == 0).all()
    # A's nearest neighbour is B, at A's own store; never itself, never another store.
    row = ids.set_index("unique_id")
    assert row.loc["A@0", "text_nb_0"] == "B@0"
    assert row.loc["C@1", "text_nb_0"] == "D@1"
    for uid, nbs in row.filter(like="text_nb_").iterrows():
        named = [n for n in nbs if n is not None]
        assert uid not in named
        assert all(n.endswith(uid[-2:]) for n in named)
    assert len(row.filter(like="text_nb_").columns) == ATTACHED_NEIGHBOURS


def test_text_and_reviews_survive_save_load_and_subset(
    tmp_path: Path, embedding: TextEmbedding
) -> None:
    daily = pd.DataFrame(
        {
            "sku": ["A"],
            "ds": ["2024-02-01"],
            "reviews": [2],
            "rating_sum": [9.0],
            "sentiment_sum": [1.5],
        }
    )
    panel = attach_reviews(attach_text(_panel(), embedding), daily)
    loaded = Panel.load(panel.save(tmp_path / "panel"))
    pd.testing.assert_frame_equal(loaded.ids, panel.ids, check_dtype=False)
    assert set(loaded.daily) == {"reviews", "rating_sum", "sentiment_sum"}
    np.testing.assert_array_equal(loaded.daily["rating_sum"], panel.daily["rating_sum"])
    # A subset without B: A's first neighbour is missing (-1), not another series.
    sub = loaded.subset(np.flatnonzero(loaded.ids["sku"] != "B"))
    a0 = int(np.flatnonzero(sub.ids["unique_id"] == "A@0")[0])
    assert neighbour_positions(sub, 1)[a0, 0] == -1
    assert sub.daily["reviews"].shape == (sub.n_series, len(sub.dates))


def test_spec_defaults_off_names_and_old_specs_load() -> None:
    spec = FeatureSpec()
    assert not spec.text and spec.text_neighbours == 0 and not spec.reviews
    old = spec.to_dict()
    for key in ("text", "text_dimensions", "text_neighbours", "reviews"):
        old.pop(key)
    assert FeatureSpec.from_dict(json.loads(json.dumps(old))) == spec
    names = FeatureSpec(text=True, text_dimensions=3, text_neighbours=5, reviews=True)
    assert names.feature_names()[-11:] == [
        "text_0", "text_1", "text_2",
        "text_nb_mean_7", "text_nb_mean_28", "text_nb_log_scale_ratio",
        "review_count_28", "review_count_91", "review_rating_91", "review_rating_trend",
        "review_sentiment_91",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="text_neighbours must be in"):
        FeatureSpec(text_neighbours=21)
    with pytest.raises(ValueError, match="text_dimensions must be in"):
        FeatureSpec(text_dimensions=0)


def _column(panel: Panel, spec: FeatureSpec, uid: str, origin: int, name: str) -> float:
    s = int(np.flatnonzero(panel.ids["unique_id"] == uid)[0])
    rows = Rows(np.array([s]), np.array([origin]), np.array([3]))
    fm = build_features(panel, rows, spec)
    return float(fm.X[0, fm.names.index(name)])


def test_neighbour_features_pool_scaled_demand_up_to_the_origin(
    embedding: TextEmbedding,
) -> None:
    panel = attach_text(_panel(), embedding)
    spec = FeatureSpec(text_neighbours=1, text=True, text_dimensions=2)
    origin = 150
    # A@0 sells 1/day, its neighbour B@0 2/day: B's demand over its own scale is 1, and
    # the log of B's scale over A's is log 2.
    assert _column(panel, spec, "A@0", origin, "text_nb_mean_7") == pytest.approx(1.0)
    assert _column(panel, spec, "A@0", origin, "text_nb_log_scale_ratio") == pytest.approx(
        np.log(2.0)
    )
    assert _column(panel, spec, "A@0", origin, "text_1") == pytest.approx(
        embedding.vectors_of(["A"])[0, 1]
    )
    # B@0's demand after the origin (or a truncated panel) does not change the features.
    b0 = int(np.flatnonzero(panel.ids["unique_id"] == "B@0")[0])
    y = panel.y.copy()
    y[b0, origin + 1 :] = 1000.0
    y[b0, origin - 6 : origin + 1] = 4.0  # the last week doubled: up to the origin
    changed = Panel(panel.ids, panel.dates, y, panel.price, panel.promo, panel.calendar,
                    panel.n_history)  # fmt: skip
    for p in (changed, changed.truncate(origin)):
        mean_7 = _column(p, spec, "A@0", origin, "text_nb_mean_7")
        assert mean_7 == pytest.approx(4.0 / ((2.0 * 84 + 4.0 * 7) / 91))
    # Without attached text the features are NaN, not an error.
    assert np.isnan(_column(_panel(), spec, "A@0", origin, "text_nb_mean_7"))
    assert np.isnan(_column(_panel(), spec, "A@0", origin, "text_0"))


def test_review_features_read_only_up_to_the_origin() -> None:
    panel = _panel(("A", "B"), locations=1)
    start = panel.dates[0]
    day = lambda k: start + pd.Timedelta(days=k)  # noqa: E731
    daily = pd.DataFrame(
        {
            "sku": ["A", "A", "A", "A", "Z"],
            "ds": [day(20), day(80), day(110), day(121), day(110)],
            "reviews": [5, 1, 2, 3, 9],
            "rating_sum": [25.0, 5.0, 6.0, 6.0, 9.0],
            "sentiment_sum": [1.0, 0.5, 0.0, -1.0, 9.0],
        }
    )
    spec = FeatureSpec(reviews=True)
    with_reviews = attach_reviews(panel, daily)
    origin = 120  # day 121 is after the origin; day 20 before the 91 days
    got = {
        n: _column(with_reviews, spec, "A@0", origin, n)
        for n in spec.feature_names()
        if n.startswith("review_")
    }
    assert got["review_count_28"] == 2 and got["review_count_91"] == 3
    assert got["review_rating_91"] == pytest.approx(11.0 / 3)
    assert got["review_rating_trend"] == pytest.approx(3.0 - 5.0)
    assert got["review_sentiment_91"] == pytest.approx(0.5 / 3)
    # B has no reviews: counts 0, means NaN; a panel without reviews: all NaN.
    assert _column(with_reviews, spec, "B@0", origin, "review_count_91") == 0
    assert np.isnan(_column(with_reviews, spec, "B@0", origin, "review_rating_91"))
    assert np.isnan(_column(panel, spec, "A@0", origin, "review_count_28"))
    # The same features from the panel truncated at the origin.
    truncated = with_reviews.truncate(origin)
    assert _column(truncated, spec, "A@0", origin, "review_count_91") == 3
    # No sentiment model (NaN sums): counts and ratings stay, sentiment is NaN.
    unscored = attach_reviews(panel, daily.assign(sentiment_sum=np.nan))
    assert "sentiment_sum" not in unscored.daily
    assert np.isnan(_column(unscored, spec, "A@0", origin, "review_sentiment_91"))
    assert _column(unscored, spec, "A@0", origin, "review_count_91") == 3
    # No table: nothing changes; a frame without the columns: an error naming them.
    assert attach_reviews(panel, daily.iloc[:0]) is panel
    with pytest.raises(ValueError, match=r"lacks columns \['sentiment_sum'\]"):
        attach_reviews(panel, daily.drop(columns="sentiment_sum"))


def test_informative_text_tells_real_names_from_numbered_templates() -> None:
    assert informative_text(CATALOGUE)
    numbered = pd.DataFrame(
        {
            "sku": [f"item-{i}" for i in range(50)],
            "name": [f"Item {i}" for i in range(50)],
            "description": "Kaggle Store Item Demand item",
            "category": "kaggle",
        }
    )
    assert not informative_text(numbered)
    assert not informative_text(CATALOGUE.iloc[:0])


def test_scoring_rows_match_training_values(embedding: TextEmbedding) -> None:
    panel = attach_text(_panel(), embedding)
    spec = FeatureSpec(text=True, text_neighbours=3)
    fm = build_features(panel, scoring_rows(panel, 14), spec)
    assert fm.X.shape[1] == len(spec.feature_names())
    assert np.isfinite(fm.X[:, fm.names.index("text_nb_mean_28")]).all()


def test_build_features_step_fits_saves_and_records_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecasting.pipelines.demand.steps import build_features as step
    from forecasting.sharding import Shard
    from forecasting.storage import Storage

    panel = _panel()
    history = panel.to_long().iloc[:0]  # columns only; rows from the long frame below
    history = pd.concat(
        [
            pd.DataFrame({"unique_id": u, "sku": u[0], "location_id": f"store-{u[-1]}",
                          "ds": panel.dates[:20], "y": 1.0, "price": 1.0,
                          "promo_discount": 0.0})
            for u in panel.ids["unique_id"]
        ]
    )  # fmt: skip
    future = history.groupby("unique_id").tail(1).assign(ds=panel.dates[20], y=np.nan)
    rng = np.random.default_rng(0)
    ratings = rng.integers(1, 6, size=60)
    words = {1: "broken awful", 2: "poor", 3: "okay", 4: "good", 5: "lovely great"}
    reviews = pd.DataFrame(
        {
            "review_id": np.arange(60),
            "sku": rng.choice(["A", "B", "C"], size=60),
            "customer": None,
            "rating": ratings.astype(float),
            "title": [words[r] for r in ratings],
            "body": [f"{words[r]} product" for r in ratings],
            "created_at": panel.dates[0] + pd.to_timedelta(rng.integers(0, 20, 60), "D"),
        }
    )
    extract = SimpleNamespace(
        history=history,
        future=future.drop(columns="y"),
        events=pd.DataFrame(columns=["ds", "name", "kind"]),
        catalogue=CATALOGUE.assign(list_price=1.0, launched_on=pd.NaT),
        reviews=reviews,
    )
    monkeypatch.setattr(step, "read_partition", lambda _: (extract, {"window": {}}))
    storage = Storage.from_uri(tmp_path.as_uri())
    monkeypatch.setattr(Storage, "open", lambda self, uri: uri)
    validated = SimpleNamespace(shard=Shard(0, 1), extract_uri="extract")
    out = step.build_features_step(date(2024, 1, 21), validated, SimpleNamespace(storage=storage))  # type: ignore[arg-type]
    folder = Path(storage.path(out.uri).path)
    manifest = json.loads((folder / "features.json").read_text())
    assert manifest["text"]["attached"] and manifest["text"]["file"] == FEATURES_TEXT_MODEL
    assert manifest["text"]["neighbours"] == ATTACHED_NEIGHBOURS
    assert manifest["reviews"]["attached"] and manifest["reviews"]["reviews"] == 60
    assert TextEmbedding.load(folder / FEATURES_TEXT_MODEL).dimensions >= 2
    assert len(pd.read_parquet(folder / FEATURES_CATALOGUE)) == len(CATALOGUE)
    loaded = Panel.load(folder / "panel")
    assert has_text(loaded)
    assert loaded.daily["reviews"][:, : loaded.n_history].sum() == 60 * 2  # two stores
    assert manifest["reviews"]["sentiment"] and (folder / FEATURES_SENTIMENT_MODEL).exists()


def test_ablation_variants_are_feature_overrides() -> None:
    from forecasting_bench.text_ablation import variant_features

    assert variant_features("base") == {}
    assert variant_features("text8+nb10+reviews") == {
        "text": True,
        "text_dimensions": 8,
        "text_neighbours": 10,
        "reviews": True,
    }
    with pytest.raises(ValueError, match="unknown variant part 'words'"):
        variant_features("base+words")
    with pytest.raises(ValueError, match="text_neighbours must be in"):
        variant_features("nb50")
