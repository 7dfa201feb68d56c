from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from forecasting.db import make_engine
from forecasting.extraction import EXTRACT_COLUMNS, ExtractWindow, extract_partition, read_partition
from forecasting.sources import ShopData, load_shop


def tiny_shop() -> ShopData:
    """Two SKUs, two locations, hand-written orders covering every extraction rule."""
    products = pd.DataFrame(
        {
            "sku": ["A", "B", "POST"],
            "name": ["a", "b", "postage"],
            "description": None,
            "category": ["toys", "toys", "non-product"],
            "list_price": [10.0, 4.0, 1.0],
            "launched_on": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-01"]),
        }
    )
    locations = pd.DataFrame(
        {"location_id": ["online", "store-01"], "name": ["o", "s"], "kind": ["online", "store"]}
    )
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
            "customer_id": ["c1", "c2", "c1", "c3", None, "c9"],
            "location_id": ["online", "online", "online", "store-01", "online", "online"],
            "ordered_at": pd.to_datetime(
                [
                    "2024-01-02 10:00:00",  # A x3 + POST
                    "2024-01-02 23:59:59",  # A x2 same day -> 5
                    "2024-01-04 08:00:00",  # cancelled
                    "2024-01-06 12:00:00",  # B at the store
                    "2024-01-08 00:00:00",  # after the window: not extracted
                    "2024-01-03 09:00:00",  # A with a return line (negative)
                ]
            ),
            "status": [
                "completed",
                "completed",
                "cancelled",
                "completed",
                "completed",
                "completed",
            ],
        }
    )
    lines = pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3", "o4", "o5", "o6", "o6"],
            "line_no": [1, 2, 1, 1, 1, 1, 1, 2],
            "sku": ["A", "POST", "A", "A", "B", "A", "A", "A"],
            "quantity": [3, 1, 2, 50, 4, 9, 1, -2],
            "unit_price": [10.0, 1.0, 10.0, 10.0, 4.0, 10.0, 10.0, 10.0],
        }
    )
    promotions = pd.DataFrame(
        {
            "promotion_id": ["p1", "p2"],
            "sku": ["A", "B"],
            "location_id": [None, "store-01"],
            "starts_on": pd.to_datetime(["2024-01-03", "2024-01-08"]),
            "ends_on": pd.to_datetime(["2024-01-04", "2024-01-09"]),
            "discount_pct": [20.0, 50.0],
        }
    )
    events = pd.DataFrame(
        {
            "event_date": pd.to_datetime(["2024-01-01", "2024-01-09"]),
            "name": ["New Year", "Sale"],
            "kind": ["holiday", "shopping"],
        }
    )
    return ShopData(products, locations, orders, lines, promotions, events)


@pytest.fixture()
def loaded(sqlite_url: str) -> str:
    load_shop(make_engine(sqlite_url), tiny_shop())
    return sqlite_url


WINDOW = ExtractWindow.for_logical_date(date(2024, 1, 7), history_days=7, horizon=3)


def test_window_for_logical_date() -> None:
    assert ExtractWindow(date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 11)) == WINDOW
    assert WINDOW.last_day == date(2024, 1, 7)
    assert WINDOW.params()["window_end"] == "2024-01-08 00:00:00"
    assert WINDOW.params()["start_day"] == "2024-01-01"


def test_extract_applies_demand_rules(loaded: str, tmp_path: Path) -> None:
    result = extract_partition(make_engine(loaded), WINDOW, tmp_path / "extract")
    demand, future, events, manifest = read_partition(result.path)
    assert list(demand.columns) == list(EXTRACT_COLUMNS)
    a = demand.loc[demand["unique_id"] == "A@online"].set_index("ds")["y"]
    # Zero-filled from launch (Jan 1) to the window's last day (Jan 7); cancelled order,
    # return line, postage and the order after the window are not demand.
    assert a.index.min() == pd.Timestamp("2024-01-01") and a.index.max() == pd.Timestamp(
        "2024-01-07"
    )
    assert a.to_dict() == {
        pd.Timestamp("2024-01-01"): 0.0,
        pd.Timestamp("2024-01-02"): 5.0,
        pd.Timestamp("2024-01-03"): 1.0,
        pd.Timestamp("2024-01-04"): 0.0,
        pd.Timestamp("2024-01-05"): 0.0,
        pd.Timestamp("2024-01-06"): 0.0,
        pd.Timestamp("2024-01-07"): 0.0,
    }
    b = demand.loc[demand["unique_id"] == "B@store-01"]
    assert b["ds"].min() == pd.Timestamp("2024-01-05")  # launched on Jan 5
    assert b["y"].sum() == 4
    assert set(demand["unique_id"]) == {"A@online", "B@store-01"}
    # Price = list price net of the promotion (A: 20 % off on Jan 3-4, every location).
    promo = demand.loc[
        (demand["unique_id"] == "A@online")
        & demand["ds"].isin(pd.to_datetime(["2024-01-03", "2024-01-04"]))
    ]
    assert promo["promo_discount"].tolist() == [0.2, 0.2] and promo["price"].tolist() == [8.0, 8.0]
    # Future covariates for the horizon: planned promotion for B at the store.
    assert len(future) == 2 * 3 and "y" not in future.columns
    fb = future.loc[future["unique_id"] == "B@store-01"].set_index("ds")
    assert fb.loc["2024-01-08", "promo_discount"] == 0.5 and fb.loc["2024-01-08", "price"] == 2.0
    assert fb.loc["2024-01-10", "promo_discount"] == 0.0
    assert events["ds"].tolist() == list(pd.to_datetime(["2024-01-01", "2024-01-09"]))
    assert manifest["rows"] == len(demand) and manifest["series"] == 2
    # No customer ids leave extraction.
    assert not any("customer" in c for c in demand.columns)


def test_extract_is_idempotent(loaded: str, tmp_path: Path) -> None:
    first = extract_partition(make_engine(loaded), WINDOW, tmp_path / "extract")
    before = pd.read_parquet(Path(first.path) / "demand.parquet")
    second = extract_partition(make_engine(loaded), WINDOW, tmp_path / "extract")
    assert first.fingerprint == second.fingerprint
    pd.testing.assert_frame_equal(before, pd.read_parquet(Path(second.path) / "demand.parquet"))
    assert sorted(p.name for p in (tmp_path / "extract").iterdir()) == [
        "demand.parquet",
        "events.parquet",
        "future.parquet",
        "manifest.json",
    ]
    assert not [
        p for p in tmp_path.iterdir() if p.name.startswith(".")
    ]  # no temporary folders left


def test_empty_window_is_a_clear_error(loaded: str, tmp_path: Path) -> None:
    empty = ExtractWindow.for_logical_date(date(2023, 6, 1), history_days=30, horizon=3)
    with pytest.raises(ValueError, match="no demand between 2023-05-03 and 2023-06-01"):
        extract_partition(make_engine(loaded), empty, tmp_path / "extract")
    assert not (tmp_path / "extract").exists()
