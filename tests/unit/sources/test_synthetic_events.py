"""The synthetic shop's web event log: funnel, surges that views lead, sessions, customers,
bots and duplicates."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from forecasting.behaviour.events import EVENT_TYPES, clean_events
from forecasting.behaviour.search import QueryMatcher
from forecasting.sources.shop import TABLE_COLUMNS, ShopData
from forecasting.sources.synthetic import generate_shop, generate_shop_streaming
from forecasting.sources.synthetic_events import UNMET_QUERIES, FunnelConfig, surge_interest

SMALL = {"n_skus": 8, "n_locations": 2, "days": 150, "seed": 3, "reviews": False}


@pytest.fixture(scope="module")
def shop() -> ShopData:
    return generate_shop(**SMALL, funnel=FunnelConfig(event_days=90))


def _extracted(events: pd.DataFrame) -> pd.DataFrame:
    """The source rows under the extracted names (:data:`EVENT_COLUMNS`)."""
    return events.rename(columns={"session_id": "session", "customer_id": "customer"})


def _sold(shop: ShopData) -> pd.DataFrame:
    lines = shop.order_lines.merge(shop.orders, on="order_id")
    return lines.loc[lines["status"] == "completed"]


def test_columns_types_and_searches(shop: ShopData) -> None:
    events = shop.web_events
    assert tuple(events.columns) == TABLE_COLUMNS["web_events"]
    assert events["occurred_at"].dtype == "datetime64[ns]"
    assert set(events["event_type"]) == set(EVENT_TYPES)
    searches = events["event_type"] == "search"
    assert events.loc[searches, "sku"].isna().all() and events.loc[searches, "query"].notna().all()
    assert (
        events.loc[~searches, "query"].isna().all() and events.loc[~searches, "sku"].notna().all()
    )
    assert set(events["sku"].dropna()) <= set(shop.products["sku"])
    assert set(events["location_id"]) == set(shop.locations["location_id"])
    # Only the last event_days days, ending with the last order day.
    days = events["occurred_at"].dt.normalize()
    assert days.max() == pd.Timestamp("2024-06-30") and days.nunique() == 90
    # Searches for unstocked things match nothing; the others match their product.
    matcher = QueryMatcher(shop.products)
    queries = events.loc[searches, "query"]
    unmet = queries.isin(UNMET_QUERIES)
    assert 0.08 < unmet.mean() < 0.25
    assert all(len(matcher.match(q)) == 0 for q in UNMET_QUERIES)
    assert all(len(matcher.match(q)) > 0 for q in queries.loc[~unmet].unique())


def test_funnel_ratios_and_intraday_profile(shop: ShopData) -> None:
    clean, _ = clean_events(_extracted(shop.web_events))
    counts = clean["event_type"].value_counts()
    sold = _sold(shop)
    lines = int((sold["ordered_at"] >= clean["occurred_at"].min().normalize()).sum())
    assert 20 < counts["view"] / lines < 45  # about views_per_purchase = 30
    assert 0.08 < counts["cart_add"] / counts["view"] < 0.16  # 0.10, plus order carts
    assert counts["cart_add"] > 2 * lines  # views >> cart adds >> order lines
    assert 0.15 < counts["cart_remove"] / counts["cart_add"] < 0.35
    per_session = clean.groupby("session").size()
    assert 2 < per_session.mean() < 8
    hours = clean["occurred_at"].dt.hour.value_counts()
    assert hours.loc[[19, 20, 21]].sum() > 4 * hours.loc[[2, 3, 4]].sum()
    # Each location's views follow its demand there.
    views = clean.loc[clean["event_type"] == "view"].groupby("location_id").size()
    units = sold.groupby("location_id")["quantity"].sum()
    assert (views / views.sum() - units / units.sum()).abs().max() < 0.1


def test_bots_and_duplicates_are_there_and_cleaned(shop: ShopData) -> None:
    events = _extracted(shop.web_events)
    repeated = events.loc[events["event_id"].duplicated(keep=False)]
    assert 0 < events["event_id"].duplicated().sum() < 0.01 * len(events)
    assert len(repeated.drop_duplicates()) == repeated["event_id"].nunique()  # exact copies
    clean, cleaning = clean_events(events)
    assert cleaning.duplicate_events == events["event_id"].duplicated().sum()
    assert cleaning.bot_sessions > 0
    views = (events.drop_duplicates("event_id")["event_type"] == "view").sum()
    assert 0.01 < cleaning.bot_events / views < 0.12  # bot_share 0.05
    bots = events.loc[~events["event_id"].isin(clean["event_id"])].drop_duplicates("event_id")
    assert (bots["event_type"] == "view").all() and bots["customer"].isna().all()
    assert clean["event_id"].is_unique


def test_identified_customers_browse_and_cart_before_their_orders(shop: ShopData) -> None:
    events = shop.web_events
    sold = _sold(shop)
    sold = sold.loc[
        sold["ordered_at"] >= events["occurred_at"].min().normalize() + pd.Timedelta(days=14)
    ]
    assert sold["customer_id"].notna().all() and len(sold) > 100
    known = events.loc[events["customer_id"].notna()]
    assert set(known["customer_id"]) <= set(shop.orders["customer_id"])
    assert 0.2 < known["session_id"].nunique() / events["session_id"].nunique() < 0.6
    joined = sold.merge(known, on=["customer_id", "sku"], suffixes=("", "_event"))
    before = joined["ordered_at"] - joined["occurred_at"]
    joined = joined.loc[(before >= pd.Timedelta(0)) & (before <= pd.Timedelta(days=15))]
    lines = ["order_id", "line_no"]
    carted = joined.loc[
        (joined["event_type"] == "cart_add")
        & (joined["occurred_at"].dt.normalize() == joined["ordered_at"].dt.normalize())
    ]
    viewed = joined.loc[joined["event_type"] == "view"]
    assert len(carted.drop_duplicates(lines)) == len(sold)  # every line carted that day
    assert len(viewed.drop_duplicates(lines)) == len(sold)  # and viewed before
    # Customers also browse on days before the order.
    assert (viewed["occurred_at"].dt.normalize() < viewed["ordered_at"].dt.normalize()).any()


def test_a_view_surge_leads_the_sales_surge_by_the_lag() -> None:
    lag = 4
    funnel = FunnelConfig(
        lag_days=lag, surge_rate=8.0, surge_size=8.0, noise=50.0, event_days=None, bot_share=0.0
    )
    shop = generate_shop(n_skus=6, n_locations=1, days=120, seed=5, reviews=False, funnel=funnel)
    days = pd.date_range(end="2024-06-30", periods=120)
    views = (
        shop.web_events.loc[shop.web_events["event_type"] == "view"]
        .groupby(["sku", shop.web_events["occurred_at"].dt.normalize()])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=days, fill_value=0)
    )
    sold = _sold(shop)
    sales = (
        sold.groupby(["sku", sold["ordered_at"].dt.normalize()])["quantity"]
        .sum()
        .unstack(fill_value=0)
        .reindex(index=views.index, columns=days, fill_value=0)
    )

    def standard(frame: pd.DataFrame) -> np.ndarray:
        logs = np.log1p(frame.to_numpy(dtype=float))
        return (logs - logs.mean(axis=1, keepdims=True)) / (logs.std(axis=1, keepdims=True) + 1e-9)

    v, s = standard(views), standard(sales)
    shifts = range(-7, 8)
    corr = [
        np.nanmean(v[:, max(0, -k) : 120 - max(0, k)] * s[:, max(0, k) : 120 + min(0, k)])
        for k in shifts
    ]
    assert list(shifts)[int(np.argmax(corr))] == lag  # views on day t, sales on t + lag


def test_surges_follow_the_config() -> None:
    flat = surge_interest(5, 365, FunnelConfig(surge_rate=0.0), seed=1)
    assert (flat == 1.0).all()
    funnel = FunnelConfig(surge_rate=3.0, surge_size=4.0, surge_days=7, lag_days=2)
    interest = surge_interest(200, 365, funnel, seed=1)
    assert interest.shape == (200, 367) and interest.min() == 1.0
    surged = (interest > 1.0).sum(axis=1)
    assert 10 < surged.mean() < 30  # about 3 surges of 7 days a year
    assert 3.5 < np.median(interest.max(axis=1)) < 4.5


def test_events_are_deterministic_and_optional(shop: ShopData) -> None:
    # The same seed gives the same log, also when streamed a day at a time.
    streamed_shop, days = generate_shop_streaming(**SMALL, funnel=FunnelConfig(event_days=90))
    streamed = pd.concat([d for d in days if len(d)], ignore_index=True)
    assert streamed.equals(shop.web_events) and len(streamed) > 10_000
    assert streamed_shop.web_events.empty
    without = generate_shop(**SMALL, events=False, funnel=FunnelConfig(event_days=90))
    assert without.web_events.empty
    assert tuple(without.web_events.columns) == TABLE_COLUMNS["web_events"]
    # The same demand (surges included) with and without the log.
    for table in ("orders", "order_lines", "products", "promotions"):
        pd.testing.assert_frame_equal(getattr(without, table), getattr(shop, table))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cart_add_rate": 1.5}, "cart_add_rate must be in [0, 1]"),
        ({"bot_share": 1.0}, "bot_share must be in [0, 1)"),
        ({"lag_days": -1}, "lag_days must be an integer >= 0"),
        ({"surge_size": 0.5}, "surge_size must be >= 1"),
        ({"noise": 0.0}, "noise must be > 0"),
        ({"event_days": 0}, "event_days must be None or an integer >= 1"),
    ],
)
def test_funnel_config_refuses_bad_values(change: dict[str, float], message: str) -> None:
    with pytest.raises(
        ValueError,
        match=r"invalid FunnelConfig: .*" + re.escape(message),
    ):
        FunnelConfig(**change)  # type: ignore[arg-type]
