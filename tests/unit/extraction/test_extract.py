import dataclasses
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from upath import UPath

from forecasting.customers.privacy import pseudonymise
from forecasting.db import make_engine
from forecasting.extraction import (
    EXTRACT_COLUMNS,
    REVIEW_COLUMNS,
    DemandStore,
    ExtractWindow,
    extract_all,
    read_partition,
    write_partition,
)
from forecasting.extraction.assemble import CATALOGUE_COLUMNS, flag_outliers
from forecasting.extraction.window import month_chunks, time_segments
from forecasting.sharding import Shard
from forecasting.sources import ShopData, load_shop
from forecasting.text.reviews import daily_reviews


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
            "order_id": ["o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8"],
            "customer_id": ["c1", "c2", "c1", "c3", None, "c9", "c4", "c5"],
            "location_id": ["online"] * 3 + ["store-01"] + ["online"] * 4,
            "ordered_at": pd.to_datetime(
                [
                    "2024-01-02 10:00:00",  # A x3 + POST
                    "2024-01-02 23:59:59",  # A x2 same day -> 5
                    "2024-01-04 08:00:00",  # cancelled
                    "2024-01-06 12:00:00",  # B at the store
                    "2024-01-08 00:00:00",  # after the window: not extracted
                    "2024-01-03 09:00:00",  # A with a return line (negative)
                    "2024-01-05 09:00:00",  # CANCELLED in capitals: not demand either
                    "2024-01-05 10:00:00",  # the same line twice (a double write): counts once
                ]
            ),
            "status": [
                "completed",
                "completed",
                "cancelled",
                "completed",
                "completed",
                "completed",
                " CANCELLED",
                "completed",
            ],
        }
    )
    lines = pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3", "o4", "o5", "o6", "o6", "o7", "o8", "o8"],
            "line_no": [1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 2],
            "sku": ["A", "POST", "A", "A", "B", "A", "A", "A", "A", "B", "B"],
            "quantity": [3, 1, 2, 50, 4, 9, 1, -2, 7, 2, 2],
            "unit_price": [10.0, 1.0, 10.0, 10.0, 4.0, 10.0, 10.0, 10.0, 10.0, 4.0, 4.0],
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
    assert ExtractWindow.from_dict(WINDOW.to_dict()) == WINDOW


def test_month_chunks_cover_the_range() -> None:
    assert month_chunks(date(2024, 1, 30), date(2024, 3, 2)) == [
        (date(2024, 1, 30), date(2024, 1, 31)),
        (date(2024, 2, 1), date(2024, 2, 29)),
        (date(2024, 3, 1), date(2024, 3, 2)),
    ]


def test_time_segments_follow_daylight_saving() -> None:
    utc = time_segments(date(2024, 3, 30), date(2024, 4, 1), "UTC", "UTC")
    assert [(s.start, s.end, s.offset_seconds) for s in utc] == [
        (datetime(2024, 3, 30), datetime(2024, 4, 2), 0)
    ]
    # Berlin switches to summer time at 01:00 UTC on 31 March 2024.
    berlin = time_segments(date(2024, 3, 30), date(2024, 4, 1), "Europe/Berlin", "UTC")
    assert [(s.start, s.end, s.offset_seconds) for s in berlin] == [
        (datetime(2024, 3, 29, 23), datetime(2024, 3, 31, 1), 3600),
        (datetime(2024, 3, 31, 1), datetime(2024, 4, 1, 22), 7200),
    ]
    assert berlin[0].params()["offset_modifier"] == "+3600 seconds"


def test_extract_applies_demand_rules(loaded: str, tmp_path: Path) -> None:
    extract = extract_all(make_engine(loaded), WINDOW, UPath(tmp_path))
    demand, future, events, cleaning = (
        extract.history,
        extract.future,
        extract.events,
        extract.cleaning,
    )
    assert list(demand.columns) == list(EXTRACT_COLUMNS)
    a = demand.loc[demand["unique_id"] == "A@online"].set_index("ds")["y"]
    # Zero-filled from launch (Jan 1) to the window's last day (Jan 7); cancelled orders (any
    # letter case), the return line, postage and the order after the window are not demand.
    assert a.to_dict() == {
        pd.Timestamp("2024-01-01"): 0.0,
        pd.Timestamp("2024-01-02"): 5.0,
        pd.Timestamp("2024-01-03"): 1.0,
        pd.Timestamp("2024-01-04"): 0.0,
        pd.Timestamp("2024-01-05"): 0.0,
        pd.Timestamp("2024-01-06"): 0.0,
        pd.Timestamp("2024-01-07"): 0.0,
    }
    b = demand.loc[demand["unique_id"] == "B@online"].set_index("ds")["y"]
    assert b[pd.Timestamp("2024-01-05")] == 2.0  # the duplicated line counts once
    store = demand.loc[demand["unique_id"] == "B@store-01"]
    assert store["ds"].min() == pd.Timestamp("2024-01-05")  # launched on Jan 5
    assert store["y"].sum() == 4
    assert set(demand["unique_id"]) == {"A@online", "B@online", "B@store-01"}
    # Price = list price net of the promotion (A: 20 % off on Jan 3-4, every location).
    promo = demand.loc[
        (demand["unique_id"] == "A@online")
        & demand["ds"].isin(pd.to_datetime(["2024-01-03", "2024-01-04"]))
    ]
    assert promo["promo_discount"].tolist() == [0.2, 0.2] and promo["price"].tolist() == [8.0, 8.0]
    # Future covariates for the horizon: planned promotion for B at the store.
    assert len(future) == 3 * 3 and "y" not in future.columns
    fb = future.loc[future["unique_id"] == "B@store-01"].set_index("ds")
    assert fb.loc["2024-01-08", "promo_discount"] == 0.5 and fb.loc["2024-01-08", "price"] == 2.0
    assert fb.loc["2024-01-10", "promo_discount"] == 0.0
    assert events["ds"].tolist() == list(pd.to_datetime(["2024-01-01", "2024-01-09"]))
    assert cleaning["outlier_days"] == 0 and demand["excluded"].isna().all()
    # No customer ids leave extraction.
    assert not any("customer" in c for c in demand.columns)


def test_days_are_counted_in_the_shops_timezone(loaded: str, tmp_path: Path) -> None:
    # 23:59:59 UTC on Jan 2 is 00:59:59 on Jan 3 in Berlin: order o2 moves to Jan 3.
    demand = extract_all(
        make_engine(loaded), WINDOW, UPath(tmp_path), shop_tz="Europe/Berlin"
    ).history
    a = demand.loc[demand["unique_id"] == "A@online"].set_index("ds")["y"]
    assert a[pd.Timestamp("2024-01-02")] == 3.0 and a[pd.Timestamp("2024-01-03")] == 3.0


def test_store_is_incremental_with_a_look_back(loaded: str, tmp_path: Path) -> None:
    engine = make_engine(loaded)
    store = DemandStore.for_source(UPath(tmp_path), loaded, "UTC", "UTC")
    first = store.sync(
        engine, date(2024, 1, 1), date(2024, 1, 5), lookback_days=2, shop_tz="UTC", source_tz="UTC"
    )
    assert first.full and first.extracted == [["2024-01-01", "2024-01-05"]]
    # A late correction two days back is picked up by the next day's sync...
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE order_lines SET quantity = 4 WHERE order_id = 'o6' AND line_no = 1"
        )
    second = store.sync(
        engine, date(2024, 1, 1), date(2024, 1, 6), lookback_days=3, shop_tz="UTC", source_tz="UTC"
    )
    assert not second.full and second.extracted == [["2024-01-03", "2024-01-06"]]
    got = store.read(date(2024, 1, 1), date(2024, 1, 6)).set_index(["sku", "location_id", "ds"])
    assert got.loc[("A", "online", pd.Timestamp("2024-01-03")), "y"] == 4.0
    # ...an older one only by a full refresh.
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE order_lines SET quantity = 6 WHERE order_id = 'o1' AND line_no = 1"
        )
    store.sync(
        engine, date(2024, 1, 1), date(2024, 1, 6), lookback_days=1, shop_tz="UTC", source_tz="UTC"
    )
    stale = store.read(date(2024, 1, 2), date(2024, 1, 2))
    assert stale["y"].sum() == 5.0
    store.sync(
        engine,
        date(2024, 1, 1),
        date(2024, 1, 6),
        lookback_days=1,
        shop_tz="UTC",
        source_tz="UTC",
        full_refresh=True,
    )
    assert store.read(date(2024, 1, 2), date(2024, 1, 2))["y"].sum() == 8.0
    with pytest.raises(ValueError, match=r"covers 2024-01-01\.\.2024-01-06"):
        store.read(date(2024, 1, 1), date(2024, 1, 7))


def test_another_source_database_gets_its_own_store(tmp_path: Path) -> None:
    a = DemandStore.for_source(UPath(tmp_path), "mysql://u:secret@h/shop", "UTC", "UTC")
    b = DemandStore.for_source(UPath(tmp_path), "mysql://u:other@h/shop", "UTC", "UTC")
    c = DemandStore.for_source(UPath(tmp_path), "mysql://u@h/other_shop", "UTC", "UTC")
    assert a.root == b.root != c.root  # the password is not part of the identity
    assert "secret" not in str(a.root)


def test_absurd_quantities_are_excluded_not_trained_on() -> None:
    days = pd.date_range("2024-01-01", periods=120)
    y = [float(d % 3) for d in range(120)]
    y[100] = 1_000_000.0  # one order line of a million units
    y[50] = 12.0  # a real peak, four times the usual maximum
    history = pd.DataFrame({"sku": "A", "location_id": "x", "ds": days, "y": y})
    flagged, units = flag_outliers(history, factor=100.0, min_units=100.0)
    assert flagged.tolist() == [i == 100 for i in range(120)]
    assert units == 1_000_000.0


def test_partition_is_idempotent(loaded: str, tmp_path: Path) -> None:
    engine = make_engine(loaded)
    first = write_partition(
        UPath(tmp_path / "a"),
        extract_all(engine, WINDOW, UPath(tmp_path / "s")),
        WINDOW,
        Shard(0, 1),
    )
    second = write_partition(
        UPath(tmp_path / "b"),
        extract_all(engine, WINDOW, UPath(tmp_path / "s")),
        WINDOW,
        Shard(0, 1),
    )
    assert first.fingerprint == second.fingerprint
    pd.testing.assert_frame_equal(
        read_partition(UPath(tmp_path / "a"))[0].history,
        read_partition(UPath(tmp_path / "b"))[0].history,
    )


def test_the_extract_carries_the_sellable_catalogue_with_its_text(
    loaded: str, tmp_path: Path
) -> None:
    extract = extract_all(make_engine(loaded), WINDOW, UPath(tmp_path / "s"))
    write_partition(UPath(tmp_path / "a"), extract, WINDOW, Shard(0, 1))
    catalogue = read_partition(UPath(tmp_path / "a"))[0].catalogue
    # Postage is not a product; the text comes along for the text model.
    assert catalogue["sku"].tolist() == ["A", "B"]
    assert catalogue["name"].tolist() == ["a", "b"]
    assert list(catalogue.columns) == list(CATALOGUE_COLUMNS)


def test_a_window_without_demand_gives_an_empty_extract(loaded: str, tmp_path: Path) -> None:
    empty = ExtractWindow.for_logical_date(date(2023, 6, 1), history_days=30, horizon=3)
    extract = extract_all(make_engine(loaded), empty, UPath(tmp_path))
    assert extract.history.empty and extract.future.empty
    assert list(extract.history.columns) == list(EXTRACT_COLUMNS)


def test_list_prices_are_compared_with_what_customers_paid(loaded: str, tmp_path: Path) -> None:
    prices = extract_all(make_engine(loaded), WINDOW, UPath(tmp_path)).prices.set_index("sku")
    # A sold 3 + 2 + 1 units at 10.00 (list price 10): ratio 1; B sold 4 + 2 at 4.00.
    assert prices.loc["A", "avg_unit_price"] == 10.0 and prices.loc["A", "price_ratio"] == 1.0
    assert prices.loc["B", "price_ratio"] == 1.0 and prices.loc["B", "line_count"] == 2


def test_promo_discount_takes_the_largest_matching_promotion() -> None:
    """Overlapping promotions: the largest discount wins; a promotion without a location
    applies at every location; an inverted date range covers no day."""
    from forecasting.extraction.assemble import _promo_discount

    promotions = pd.DataFrame(
        {
            "sku": ["A", "A", "A", "B", "B"],
            "location_id": [None, "L1", "L2", "L1", None],
            "starts_on": ["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-05", "2024-01-09"],
            "ends_on": ["2024-01-03", "2024-01-02", "2024-01-04", "2024-01-04", "2024-01-09"],
            "discount_pct": [10, 30, 5, 50, 20],
        }
    )
    keys = pd.DataFrame(
        [
            ("A", "L1", "2024-01-02", 0.30),  # specific 30 % beats everywhere 10 %
            ("A", "L2", "2024-01-02", 0.10),  # everywhere 10 % beats specific 5 %
            ("A", "L2", "2024-01-04", 0.05),
            ("A", "L3", "2024-01-03", 0.10),
            ("A", "L3", "2024-01-04", 0.0),
            ("B", "L1", "2024-01-05", 0.0),  # inverted range: no day
            ("B", "L2", "2024-01-09", 0.20),
            ("C", "L1", "2024-01-02", 0.0),
        ],
        columns=["sku", "location_id", "ds", "expected"],
    ).sample(frac=1.0, random_state=0)
    got = _promo_discount(keys.assign(ds=pd.to_datetime(keys["ds"])), promotions)
    assert got.tolist() == keys["expected"].tolist()


def test_reviews_are_read_in_shop_time_pseudonymised_without_opted_out_customers(
    sqlite_url: str, tmp_path: Path
) -> None:
    shop = tiny_shop()
    reviews = pd.DataFrame(
        {
            "review_id": ["r1", "r2", "r3", "r4", "r5"],
            "sku": ["A", "A", "B", "Z", "A"],
            "customer_id": ["c1", "c9", "c3", "c2", "c1"],
            "rating": [5, 1, 4, 3, 2],
            "title": ["Love it", "Bad", "Good", "Okay", "Late"],
            "body": ["Great.", "Broke.", "Nice.", "Fine.", "Too late."],
            # Source (UTC) times; the shop is in New York (UTC-5 in January).
            "created_at": pd.to_datetime(
                [
                    "2024-01-03 12:00:00",
                    "2024-01-03 13:00:00",  # c9 opted out: never read
                    "2024-01-08 03:00:00",  # 22:00 on Jan 7 in New York: the run's day
                    "2024-01-05 12:00:00",  # a SKU the catalogue does not know
                    "2024-01-08 06:00:00",  # 01:00 on Jan 8 in New York: after the run's day
                ]
            ),
        }
    )
    optouts = pd.DataFrame({"customer_id": ["c9"], "opted_out_on": pd.to_datetime(["2024-01-02"])})
    engine = make_engine(sqlite_url)
    load_shop(
        engine,
        dataclasses.replace(shop, product_reviews=reviews, customer_optouts=optouts),
    )
    key = b"a key of at least sixteen bytes"
    zones = ("America/New_York", "UTC")
    extract = extract_all(
        engine,
        WINDOW,
        UPath(tmp_path / "s"),
        customer_key=key,
        shop_tz=zones[0],
        source_tz=zones[1],
    )
    got = extract.reviews
    assert list(got.columns) == list(REVIEW_COLUMNS)
    assert got["review_id"].tolist() == ["r1", "r4", "r3"]
    assert got["created_at"].dt.strftime("%m-%d %H:%M").tolist() == [
        "01-03 07:00",
        "01-05 07:00",
        "01-07 22:00",
    ]
    assert got["customer"].tolist() == pseudonymise(["c1", "c2", "c3"], key).tolist()
    written = write_partition(UPath(tmp_path / "a"), extract, WINDOW, Shard(0, 1))
    back = read_partition(UPath(tmp_path / "a"))[0].reviews
    pd.testing.assert_frame_equal(back, got)
    stored = b"".join(p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert b"Broke." not in stored and b"Great." in stored  # the opted-out review is not there
    assert written.cleaning["reviews"] == 3
    # Without a key the reviewers are dropped; two shards split the reviews by SKU.
    parts = [
        extract_all(
            engine,
            WINDOW,
            UPath(tmp_path / "s"),
            shard=Shard(i, 2),
            shop_tz=zones[0],
            source_tz=zones[1],
        ).reviews
        for i in range(2)
    ]
    both = pd.concat(parts).sort_values("review_id")
    assert both["review_id"].tolist() == ["r1", "r3", "r4"] and both["customer"].isna().all()
    daily = daily_reviews(got)
    assert daily["ds"].dt.strftime("%m-%d").tolist() == ["01-03", "01-07", "01-05"]


def test_without_reviews_the_extract_is_unchanged(loaded: str, tmp_path: Path) -> None:
    extract = extract_all(make_engine(loaded), WINDOW, UPath(tmp_path / "s"))
    assert extract.reviews.empty and "reviews" not in extract.cleaning
    write_partition(UPath(tmp_path / "a"), extract, WINDOW, Shard(0, 1))
    assert not (tmp_path / "a" / "reviews.parquet").exists()
    assert read_partition(UPath(tmp_path / "a"))[0].reviews.empty
