import numpy as np
import pandas as pd

from forecasting.sources.shop import TABLE_COLUMNS, ShopData
from forecasting.sources.synthetic import generate_shop
from forecasting.sources.synthetic_text import PRODUCT_TYPES
from forecasting.text import TextEmbedding


def _kind(name: str) -> str:
    """A synthetic product's type: the end of its name."""
    return next(k for types in PRODUCT_TYPES.values() for k in types if name.endswith(k))


def test_same_seed_same_shop_and_all_tables() -> None:
    a = generate_shop(n_skus=5, n_locations=2, days=120, seed=11)
    b = generate_shop(n_skus=5, n_locations=2, days=120, seed=11)
    for table in TABLE_COLUMNS:
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    c = generate_shop(n_skus=5, n_locations=2, days=120, seed=12)
    assert not a.order_lines.equals(c.order_lines)


def test_realistic_demand_patterns(small_shop: ShopData) -> None:
    orders = small_shop.orders.set_index("order_id")
    lines = small_shop.order_lines.join(orders, on="order_id")
    # Cancelled orders exist and are copies of real lines.
    assert (small_shop.orders["status"] == "cancelled").mean() > 0.005
    sold = lines.loc[lines["status"] == "completed"]
    daily = sold.assign(ds=sold["ordered_at"].dt.normalize()).groupby("ds")["quantity"].sum()
    # Weekly seasonality: Saturdays sell more than Tuesdays on average.
    by_dow = daily.groupby(daily.index.dayofweek).mean()
    assert by_dow[5] > by_dow[1] * 1.1
    # Stores are closed on Christmas Day.
    xmas = sold.loc[sold["ordered_at"].dt.strftime("%m-%d") == "12-25"]
    assert set(xmas["location_id"]) <= {"online"}
    # Promotions cover planned days after the last order day.
    assert small_shop.promotions["ends_on"].max() > sold["ordered_at"].max()
    # Prices are positive; quantities positive integers.
    assert (small_shop.products["list_price"] > 0).all()
    assert (small_shop.order_lines["quantity"] > 0).all()


def test_intermittent_and_late_starting_skus() -> None:
    shop = generate_shop(n_skus=40, n_locations=1, days=365, seed=5)
    lines = shop.order_lines.join(shop.orders.set_index("order_id"), on="order_id")
    lines = lines.loc[lines["status"] == "completed"]
    days_sold = lines.assign(d=lines["ordered_at"].dt.normalize()).groupby("sku")["d"].nunique()
    assert (days_sold.reindex(shop.products["sku"], fill_value=0) < 365 * 0.5).any()  # slow movers
    first = lines.groupby("sku")["ordered_at"].min()
    assert (first > first.min() + pd.Timedelta(days=60)).any()  # launched mid-history
    assert np.isfinite(shop.products["list_price"]).all()


def test_planned_launches_have_text_neighbours_and_no_orders() -> None:
    shop = generate_shop(n_skus=30, n_locations=1, days=120, seed=4)
    last_day = shop.orders["ordered_at"].max().normalize()
    products = shop.products.set_index("sku")
    planned = products.loc[products["launched_on"] > last_day]
    assert len(planned) == 3  # the default: a tenth of the SKUs, at most 3
    assert (planned["launched_on"] <= last_day + pd.Timedelta(days=28)).all()
    assert not set(planned.index) & set(shop.order_lines["sku"])
    assert products["name"].is_unique and products["name"].str.len().between(1, 255).all()
    # Each is a new variant of a product type the shop already sells: a close text neighbour.
    sold = shop.products.loc[~shop.products["sku"].isin(planned.index)]
    assert {_kind(n) for n in planned["name"]} <= {_kind(n) for n in sold["name"]}
    embedding = TextEmbedding.fit(sold)
    _, similarity = embedding.neighbours(embedding.transform(planned.reset_index()), 1)
    assert (similarity > 0.7).all()
    # They come on top of the 30 SKUs: with none, every other table is the same.
    assert list(planned.index) == ["SKU-00031", "SKU-00032", "SKU-00033"]
    plain = generate_shop(n_skus=30, n_locations=1, days=120, seed=4, planned_launches=0)
    assert len(plain.products) == 30
    for table in ("orders", "order_lines", "promotions", "product_reviews"):
        pd.testing.assert_frame_equal(getattr(plain, table), getattr(shop, table))


def test_product_words_follow_demand() -> None:
    shop = generate_shop(n_skus=60, n_locations=1, days=200, seed=1)
    sold = shop.order_lines.join(shop.orders.set_index("order_id"), on="order_id")
    rate = sold.loc[sold["status"] == "completed"].groupby("sku")["quantity"].sum()
    names = shop.products.set_index("sku")["name"].reindex(rate.index)
    essential = rate[names.str.contains("ESSENTIAL")]
    collectors = rate[names.str.contains("COLLECTORS")]
    assert essential.median() > 5 * collectors.median()
    # Products of the same type sell alike: the type explains much of the variance.
    kind = names.map(_kind)
    log_rate = np.log1p(rate)
    within = log_rate.groupby(kind).transform(lambda s: s - s.mean()).var()
    assert within < 0.6 * log_rate.var()


def test_reviews_come_from_buyers_and_follow_quality() -> None:
    shop = generate_shop(n_skus=40, n_locations=1, days=365, seed=5)
    reviews = shop.product_reviews
    lines = shop.order_lines.join(shop.orders.set_index("order_id"), on="order_id")
    lines = lines.loc[lines["status"] == "completed"]
    assert 0.01 < len(reviews) / len(lines) < 0.06 and reviews["review_id"].is_unique
    assert reviews["rating"].between(1, 5).all() and reviews["rating"].nunique() == 5
    first = lines.groupby(["sku", "customer_id"])["ordered_at"].min().rename("bought")
    joined = reviews.join(first, on=["sku", "customer_id"])
    assert (joined["bought"] < joined["created_at"]).all()  # buyers, after buying
    assert reviews["created_at"].max() < pd.Timestamp("2024-07-01")
    # Text agrees with rating, not one to one.
    good = reviews["body"].str.contains("love|perfect|excellent|recommend", case=False)
    assert reviews.loc[good, "rating"].mean() > reviews.loc[~good, "rating"].mean() + 0.8
    assert reviews.groupby("title")["rating"].nunique().max() > 1
    # Better-rated products grow: mean rating against demand growth (last 120 days).
    recent = lines["ordered_at"] > lines["ordered_at"].max() - pd.Timedelta(days=120)
    qty = lines.groupby(["sku", recent])["quantity"].sum().unstack()
    growth = np.log(qty[True] / 120) - np.log(qty[False] / 245)
    rating = reviews.groupby("sku")["rating"].mean().reindex(growth.index)
    assert rating.corr(growth, method="spearman") > 0.2
    # Without reviews, the table is empty and nothing else changes.
    plain = generate_shop(n_skus=40, n_locations=1, days=365, seed=5, reviews=False)
    assert plain.product_reviews.empty
    pd.testing.assert_frame_equal(plain.order_lines, shop.order_lines)
