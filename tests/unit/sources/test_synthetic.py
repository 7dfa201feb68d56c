import numpy as np
import pandas as pd

from forecasting.sources.shop import TABLE_COLUMNS
from forecasting.sources.synthetic import generate_shop


def test_same_seed_same_shop_and_all_tables() -> None:
    a = generate_shop(n_skus=5, n_locations=2, days=120, seed=11)
    b = generate_shop(n_skus=5, n_locations=2, days=120, seed=11)
    for table in TABLE_COLUMNS:
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    c = generate_shop(n_skus=5, n_locations=2, days=120, seed=12)
    assert not a.order_lines.equals(c.order_lines)


def test_realistic_demand_patterns(small_shop) -> None:
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
