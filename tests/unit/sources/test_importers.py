import gzip
from pathlib import Path

import pandas as pd
import pytest

from forecasting.sources.online_retail import (
    find_online_retail_file,
    is_non_product,
    online_retail_shop,
    read_online_retail,
)
from forecasting.sources.store_item import (
    find_store_item_file,
    read_store_item_demand,
    store_item_shop,
)

RETAIL_CSV = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,POST,POSTAGE,1,2010-12-01 08:26:00,18.0,17850.0,United Kingdom
536366,85123a,white hanging heart (lower-case code),2,2010-12-02 09:00:00,2.40,,United Kingdom
C536367,85123A,WHITE HANGING HEART,-6,2010-12-03 10:00:00,2.55,17850.0,United Kingdom
536368,gift_0001_10,GIFT VOUCHER,1,2010-12-03 11:00:00,10.0,13047,United Kingdom
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt") as fh:
        fh.write(text)
    return path


def test_online_retail_becomes_orders_lines_and_products(tmp_path: Path) -> None:
    _write(tmp_path / "online_retail" / "online_retail_x.csv.gz", RETAIL_CSV)
    raw = read_online_retail(find_online_retail_file(tmp_path))
    shop = online_retail_shop(raw)
    orders = shop.orders.set_index("order_id")
    assert orders.loc["C536367", "status"] == "cancelled"
    assert orders.loc["536365", "status"] == "completed"
    assert orders.loc["536365", "customer_id"] == "17850"  # float-looking ids cleaned
    assert pd.isna(orders.loc["536366", "customer_id"])
    products = shop.products.set_index("sku")
    # Case matters: 85123A and 85123a are different products.
    assert {"85123A", "85123a"} <= set(products.index)
    assert products.loc["POST", "category"] == "non-product"
    assert products.loc["gift_0001_10", "category"] == "non-product"
    assert products.loc["85123A", "category"] == "product"
    assert len(shop.order_lines) == 5
    assert set(shop.locations["location_id"]) == {"online"}
    assert (shop.calendar_events["kind"].isin(["holiday", "shopping"])).all()


def test_non_product_codes() -> None:
    codes = pd.Series(["POST", "M", "m", "BANK CHARGES", "gift_0001_20", "22423", "DOTCOM"])
    assert is_non_product(codes).tolist() == [True, True, True, True, True, False, False]


def test_store_item_becomes_one_order_per_store_and_day(tmp_path: Path) -> None:
    csv = "date,store,item,sales\n2017-01-01,1,1,13\n2017-01-01,1,2,0\n2017-01-01,2,1,7\n2017-01-02,1,1,11\n"
    _write(tmp_path / "store_item_demand" / "sales.csv.gz", csv)
    shop = store_item_shop(read_store_item_demand(find_store_item_file(tmp_path)))
    assert sorted(shop.orders["order_id"]) == ["S0120170101", "S0120170102", "S0220170101"]
    assert shop.order_lines["quantity"].sum() == 31  # zero-sales rows carry no line
    assert set(shop.products["sku"]) == {"item-01", "item-02"}
    assert set(shop.locations["location_id"]) == {"store-01", "store-02"}


def test_missing_dataset_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="store_item_demand"):
        find_store_item_file(tmp_path)
