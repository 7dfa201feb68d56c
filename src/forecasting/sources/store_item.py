"""Importer for Kaggle's Store Item Demand data (``store_item_demand/*.csv.gz``).

The file has daily ``sales`` per ``store`` x ``item`` and nothing else. It becomes one
order per store and day with one line per item sold (quantity = sales). There are no
prices in the file: every item gets a list price of 1.00, so price features are constant.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.sources.holidays import holiday_events
from forecasting.sources.shop import ShopData

__all__ = [
    "find_store_item_file",
    "location_codes",
    "read_store_item_demand",
    "sku_codes",
    "store_item_shop",
]


def sku_codes(items: pd.Series) -> pd.Series:
    """SKU codes of Kaggle item numbers (``7`` -> ``"item-07"``)."""
    return "item-" + items.astype(int).astype(str).str.zfill(2)


def location_codes(stores: pd.Series) -> pd.Series:
    """Location ids of Kaggle store numbers (``3`` -> ``"store-03"``)."""
    return "store-" + stores.astype(int).astype(str).str.zfill(2)


def find_store_item_file(data_dir: str | Path) -> Path:
    """Locate the Store Item Demand CSV below a data folder (``store_item_demand/*.csv*``)."""
    files = sorted(Path(data_dir, "store_item_demand").glob("*.csv*"))
    if not files:
        raise FileNotFoundError(f"No store_item_demand/*.csv[.gz] below {data_dir}")
    return files[-1]


def read_store_item_demand(path: str | Path) -> pd.DataFrame:
    """Read the file as ``date`` (datetime64), ``store``, ``item``, ``sales`` (int)."""
    frame = pd.read_csv(
        path, parse_dates=["date"], dtype={"store": "int16", "item": "int16", "sales": "int32"}
    )
    missing = {"date", "store", "item", "sales"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path} lacks columns {sorted(missing)}")
    return frame


def store_item_shop(sales: pd.DataFrame, events_until_days: int = 120) -> ShopData:
    """Turn the Kaggle frame into the shop's tables.

    Args:
        sales: Output of :func:`read_store_item_demand`.
        events_until_days: US holidays are added up to this many days after the last date.
    """
    items = np.sort(sales["item"].unique())
    stores = np.sort(sales["store"].unique())
    products = pd.DataFrame(
        {
            "sku": sku_codes(pd.Series(items)).to_numpy(),
            "name": [f"Item {i}" for i in items],
            "description": "Kaggle Store Item Demand item",
            "category": "kaggle",
            "list_price": 1.0,
            "launched_on": sales["date"].min(),
        }
    )
    locations = pd.DataFrame(
        {
            "location_id": location_codes(pd.Series(stores)).to_numpy(),
            "name": [f"Store {s}" for s in stores],
            "kind": "store",
        }
    )
    sold = sales.loc[sales["sales"] > 0]
    order_id = "S" + sold["store"].astype(str).str.zfill(2) + sold["date"].dt.strftime("%Y%m%d")
    lines = pd.DataFrame(
        {
            "order_id": order_id.to_numpy(),
            "line_no": sold["item"].astype("int64").to_numpy(),
            "sku": sku_codes(sold["item"]).to_numpy(),
            "quantity": sold["sales"].astype("int64").to_numpy(),
            "unit_price": 1.0,
        }
    )
    first = sold.drop_duplicates(["store", "date"])
    orders = pd.DataFrame(
        {
            "order_id": (
                "S" + first["store"].astype(str).str.zfill(2) + first["date"].dt.strftime("%Y%m%d")
            ).to_numpy(),
            "customer_id": None,
            "location_id": location_codes(first["store"]).to_numpy(),
            "ordered_at": (first["date"] + pd.Timedelta(hours=12)).to_numpy(),
            "status": "completed",
        }
    )
    promotions = pd.DataFrame(
        columns=["promotion_id", "sku", "location_id", "starts_on", "ends_on", "discount_pct"]
    )
    last = sales["date"].max() + pd.Timedelta(days=events_until_days)
    events = holiday_events(sales["date"].min(), last, "US")
    return ShopData(products, locations, orders, lines, promotions, events)
