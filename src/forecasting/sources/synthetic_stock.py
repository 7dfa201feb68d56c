"""The synthetic shop's stock: inventory on hand, open purchase orders and a replenishment
policy per series, so the demo publishes replenishment suggestions.

The stock never runs out in the generated days (a stock-out would exclude days from
training; :mod:`tests.integration.test_stockouts` writes its own), so the demand history
is the same with or without these tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["STOCK_DAYS", "draw_stock"]

#: Days of inventory snapshots, up to the shop's last day.
STOCK_DAYS = 28


def draw_stock(
    skus: np.ndarray,
    location_ids: np.ndarray,
    location_kinds: np.ndarray,
    daily_mean: np.ndarray,
    end: pd.Timestamp,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Inventory snapshots, purchase orders and a replenishment policy for every series.

    Online stock is replenished weekly from a distribution centre (lead time 7 days),
    stores daily with a shorter lead time (3 days). Packs of 1, 6 or 12 and a minimum order
    of 0, 12 or 24 units by product; target service level 95 %. Units on hand drift between
    about 3 and 30 days of cover, never zero; about a third of series have an order open,
    due within its lead time.

    Args:
        skus: The products with order history.
        location_ids: The locations.
        location_kinds: ``online`` or ``store`` per location.
        daily_mean: Expected daily demand, shape ``(len(skus), len(location_ids))``.
        end: The shop's last day.
        seed: Seed of this stream (independent of the demand's).

    Returns:
        ``inventory_snapshots``, ``purchase_orders`` and ``replenishment_policy`` frames
        (columns of :data:`forecasting.sources.shop.TABLE_COLUMNS`).
    """
    rng = np.random.default_rng(seed)
    n_skus, n_locations = daily_mean.shape
    sku_grid = np.repeat(skus, n_locations)
    location_grid = np.tile(location_ids, n_skus)
    online = np.tile(location_kinds == "online", n_skus)
    lead = np.where(online, 7, 3)
    review = np.where(online, 7, 1)
    pack = np.repeat(rng.choice([1, 6, 12], size=n_skus), n_locations)
    moq = np.repeat(rng.choice([0, 12, 24], size=n_skus), n_locations)
    policy = pd.DataFrame(
        {
            "sku": sku_grid,
            "location_id": location_grid,
            "lead_time_days": lead.astype("int64"),
            "review_period_days": review.astype("int64"),
            "service_level": 0.95,
            "pack_size": pack.astype("int64"),
            "min_order_qty": moq.astype("int64"),
        }
    )
    mean = np.maximum(daily_mean.reshape(-1), 0.05)
    days = pd.date_range(end - pd.Timedelta(days=STOCK_DAYS - 1), end, freq="D")
    # Days of cover: a random walk between 3 and 30 days, so stock never reaches zero.
    steps = rng.normal(0.0, 1.5, size=(len(mean), len(days)))
    cover = np.clip(rng.uniform(5, 25, size=(len(mean), 1)) + np.cumsum(steps, axis=1), 3, 30)
    on_hand = np.maximum(np.round(mean[:, None] * cover), 1.0)
    snapshots = pd.DataFrame(
        {
            "sku": np.repeat(sku_grid, len(days)),
            "location_id": np.repeat(location_grid, len(days)),
            "snapshot_date": np.tile(days.values, len(mean)),
            "units_on_hand": on_hand.reshape(-1),
        }
    )
    open_order = rng.random(len(mean)) < 1 / 3
    due = rng.integers(1, lead + 1)
    quantity = np.maximum(np.ceil(mean * lead * 1.5 / pack) * pack, np.maximum(moq, pack))
    orders = pd.DataFrame(
        {
            "purchase_order_id": [f"PO-{i:06d}" for i in range(int(open_order.sum()))],
            "sku": sku_grid[open_order],
            "location_id": location_grid[open_order],
            "quantity": quantity[open_order].astype(float),
            "ordered_on": (end - pd.to_timedelta(lead - due, unit="D"))[open_order],
            "expected_on": (end + pd.to_timedelta(due, unit="D"))[open_order],
        }
    )
    return snapshots, orders, policy
