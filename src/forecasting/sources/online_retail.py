"""Importer for UCI Online Retail (``online_retail/*.csv.gz``): real orders and customers.

Invoices become orders (``InvoiceNo`` starting with ``C`` is a cancellation: status
``cancelled``), rows become order lines, ``StockCode`` becomes the SKU. The shop sells
online only, so there is one location, ``online``. Codes that are not products (postage,
fees, manual adjustments, gift vouchers) get category ``non-product``; extraction leaves
them out of demand. Customer ids are loaded as they are: the source database is the shop's
own; ids are pseudonymised when they leave extraction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.sources.holidays import holiday_events
from forecasting.sources.shop import ShopData

__all__ = [
    "NON_PRODUCT_CODES",
    "find_online_retail_file",
    "is_non_product",
    "online_retail_shop",
    "read_online_retail",
]

#: Stock codes that are postage, fees or adjustments, not products.
NON_PRODUCT_CODES = frozenset(
    {"POST", "DOT", "M", "m", "C2", "D", "S", "B", "CRUK", "PADS", "AMAZONFEE", "BANK CHARGES"}
)
LOCATION_ID = "online"


def is_non_product(codes: pd.Series) -> pd.Series:
    """True for stock codes in :data:`NON_PRODUCT_CODES` or starting with ``gift_``."""
    return codes.isin(NON_PRODUCT_CODES) | codes.str.startswith("gift_")


def find_online_retail_file(data_dir: str | Path) -> Path:
    """Locate the Online Retail CSV below a data folder (``online_retail/*.csv*``)."""
    files = sorted(Path(data_dir, "online_retail").glob("*.csv*"))
    if not files:
        raise FileNotFoundError(f"No online_retail/*.csv[.gz] below {data_dir}")
    return files[-1]


def read_online_retail(path: str | Path) -> pd.DataFrame:
    """Read the UCI file with codes and ids as strings and ``InvoiceDate`` parsed."""
    frame = pd.read_csv(
        path,
        dtype={
            "InvoiceNo": str,
            "StockCode": str,
            "Description": str,
            "CustomerID": str,
            "Country": str,
        },
        parse_dates=["InvoiceDate"],
    )
    frame["CustomerID"] = frame["CustomerID"].str.replace(r"\.0$", "", regex=True)
    return frame


def online_retail_shop(raw: pd.DataFrame, events_until_days: int = 120) -> ShopData:
    """Turn the UCI frame into the shop's tables (see module docstring)."""
    raw = raw.dropna(subset=["InvoiceNo", "StockCode", "InvoiceDate"]).reset_index(drop=True)
    codes = raw["StockCode"].astype(str)
    positive = raw.loc[(raw["UnitPrice"] > 0) & (raw["Quantity"] > 0)]
    median_price = positive.groupby("StockCode")["UnitPrice"].median()
    names = (
        raw.dropna(subset=["Description"])
        .groupby("StockCode")["Description"]
        .agg(lambda s: s.mode().iat[0])
    )
    first_sold = raw.groupby("StockCode")["InvoiceDate"].min().dt.normalize()
    sku_index = pd.Index(np.sort(codes.unique()), name="sku")
    products = pd.DataFrame(
        {
            "sku": sku_index,
            "name": names.reindex(sku_index)
            .fillna("(no description)")
            .str.slice(0, 255)
            .to_numpy(),
            "description": names.reindex(sku_index).to_numpy(),
            "category": np.where(is_non_product(pd.Series(sku_index)), "non-product", "product"),
            "list_price": median_price.reindex(sku_index)
            .fillna(0.01)
            .clip(lower=0.01)
            .round(2)
            .to_numpy(),
            "launched_on": first_sold.reindex(sku_index).to_numpy(),
        }
    )
    locations = pd.DataFrame(
        {"location_id": [LOCATION_ID], "name": ["UK online shop"], "kind": ["online"]}
    )
    invoices = raw.drop_duplicates("InvoiceNo")
    orders = pd.DataFrame(
        {
            "order_id": invoices["InvoiceNo"].to_numpy(),
            "customer_id": invoices["CustomerID"].to_numpy(),
            "location_id": LOCATION_ID,
            "ordered_at": invoices["InvoiceDate"].to_numpy(),
            "status": np.where(invoices["InvoiceNo"].str.startswith("C"), "cancelled", "completed"),
        }
    )
    lines = pd.DataFrame(
        {
            "order_id": raw["InvoiceNo"].to_numpy(),
            "line_no": (raw.groupby("InvoiceNo").cumcount() + 1).to_numpy(),
            "sku": codes.to_numpy(),
            "quantity": raw["Quantity"].astype("int64").to_numpy(),
            "unit_price": raw["UnitPrice"].round(2).to_numpy(),
        }
    )
    promotions = pd.DataFrame(
        columns=["promotion_id", "sku", "location_id", "starts_on", "ends_on", "discount_pct"]
    )
    start = raw["InvoiceDate"].min().normalize()
    last = raw["InvoiceDate"].max().normalize() + pd.Timedelta(days=events_until_days)
    events = holiday_events(start, last, "GB")
    return ShopData(products, locations, orders, lines, promotions, events)
