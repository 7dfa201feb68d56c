"""The event store on SQLite: reading, pseudonyms, opt-outs, cleaning, checks, look-back,
retention."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from upath import UPath

from forecasting.behaviour.source import has_web_events, read_web_events
from forecasting.behaviour.store import EventStore, EventSyncResult
from forecasting.config import DataChecks
from forecasting.db import make_engine
from forecasting.sources import load_shop
from forecasting.validation import ValidationFailedError

from ...stored import stored_bytes
from .shop import LAST_DAY, RAW_IDS, base_events, event, event_shop

KEY = b"unit-test-key-0123456789"


def loaded(url: str, events: list[dict[str, object]] | None = None) -> sa.Engine:
    engine = make_engine(url)
    load_shop(engine, event_shop(events))
    return engine


def sync(
    store: EventStore, engine: sa.Engine, day: date = LAST_DAY, days: int = 14, **kw: object
) -> EventSyncResult:
    products = event_shop().products
    return store.sync(
        engine,
        day,
        days=days,
        lookback_days=2,
        shop_tz="UTC",
        source_tz="UTC",
        key=KEY,
        catalogue=products,
        checks=DataChecks(),
        **kw,  # type: ignore[arg-type]
    )


def new_store(tmp_path: Path, url: str) -> EventStore:
    return EventStore.for_source(UPath(tmp_path / "data"), url, "UTC", "UTC")


def bot(n: int = 201) -> list[dict[str, object]]:
    return [
        event(f"b{i}", "2024-06-30 03:00:00", "sess-bot", None, "view", "SKU-3") for i in range(n)
    ]


def test_sync_aggregates_pseudonymised_events_without_opted_out_customers(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = loaded(sqlite_url, base_events() + bot())
    frames = list(read_web_events(engine, date(2024, 6, 28), LAST_DAY, "UTC", "UTC", KEY))
    assert [len(f) for f in frames] == [0, 3, 206]  # cust-gone's two events left out in SQL
    day = frames[1]
    assert day["session"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert day["customer"].isna().tolist() == [False, False, True]  # e3 is anonymous

    store = new_store(tmp_path, sqlite_url)
    result = sync(store, engine)
    assert (result.rows, result.duplicate_events, result.bot_sessions, result.bot_events) == (
        209,
        1,
        1,
        201,
    )
    assert result.events == 7 and result.reader == "sqlalchemy"
    assert result.extracted == [["2024-06-17", "2024-06-30"]] and result.full

    daily = store.read_daily(date(2024, 6, 29), LAST_DAY)
    got = {
        (r.sku, r.ds.day): (r.views, r.sessions, r.cart_adds, r.wishlist_adds, r.searches)
        for r in daily.itertuples()
    }
    # SKU-1: three views by two sessions; a cart add, and "Wool Scarf" matched its name.
    assert got == {
        ("SKU-1", 29): (3, 2, 0, 0, 0),
        ("SKU-1", 30): (0, 1, 1, 0, 1),
        ("SKU-3", 30): (0, 1, 0, 1, 0),
    }
    assert store.read_daily(date(2024, 6, 29), LAST_DAY, {"SKU-3"})["sku"].tolist() == ["SKU-3"]
    searches = store.read_searches(date(2024, 6, 1), LAST_DAY)
    assert searches[["query", "searches", "sessions", "converted_sessions"]].values.tolist() == [
        ["unicorn lamp", 1, 1, 0],
        ["wool scarf", 1, 1, 1],
    ]
    for path, data in stored_bytes(tmp_path / "data"):
        for raw in RAW_IDS:
            assert raw.encode() not in data, f"{raw} stored in {path}"


def test_a_resync_is_idempotent_and_the_look_back_picks_up_a_late_event(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = loaded(sqlite_url)
    store = new_store(tmp_path, sqlite_url)
    sync(store, engine)
    before = store.read_daily(date(2024, 6, 17), LAST_DAY)
    again = sync(store, engine)
    assert again.extracted == [["2024-06-29", "2024-06-30"]] and not again.full
    pd.testing.assert_frame_equal(store.read_daily(date(2024, 6, 17), LAST_DAY), before)

    late = event("late", "2024-06-29 23:00:00", "sess-delta", None, "view", "SKU-3")
    load_shop(engine, event_shop([*base_events(), late]))
    synced = sync(store, engine, date(2024, 7, 1))
    assert synced.extracted == [["2024-06-29", "2024-07-01"]]
    daily = store.read_daily(date(2024, 6, 29), date(2024, 6, 29))
    assert daily.loc[daily["sku"] == "SKU-3", "views"].tolist() == [1]
    assert store.coverage() == (date(2024, 6, 18), date(2024, 7, 1))


@pytest.mark.parametrize(
    ("bad", "rule", "value"),
    [
        (
            event("e-bad", "2024-06-30 10:00:00", "sess-x", None, "purchase", "SKU-1"),
            "expect_column_values_to_be_in_set(column=event_type",
            "purchase",
        ),
        (
            event("e-bad", "2024-06-30 10:00:00", "sess-x", None, "view", "SKU-404"),
            "expect_column_values_to_be_in_set(column=known_sku",
            "SKU-404",
        ),
    ],
)
def test_a_bad_day_stops_the_sync_naming_rule_table_and_rows(
    sqlite_url: str, tmp_path: Path, bad: dict[str, object], rule: str, value: str
) -> None:
    # One unknown SKU among 4 item events of the day is 25 %, over the 5 % allowed.
    engine = loaded(sqlite_url, [*base_events(), bad])
    store = new_store(tmp_path, sqlite_url)
    sync(store, engine, date(2024, 6, 29))  # the day before is fine
    state = store.state()
    files = {p: p.read_bytes() for p in (tmp_path / "data").rglob("*.parquet")}
    with pytest.raises(ValidationFailedError) as caught:
        sync(store, engine)
    message = str(caught.value)
    assert rule in message and "table web_events" in message
    assert "e-bad" in message and value in message
    # Nothing of the failing day is written; the store is as it was.
    assert store.state() == state
    assert {p: p.read_bytes() for p in (tmp_path / "data").rglob("*.parquet")} == files


def test_retention_keeps_the_last_days_and_drops_older_months(
    sqlite_url: str, tmp_path: Path
) -> None:
    may = event("may", "2024-05-30 10:00:00", "sess-m", None, "view", "SKU-2")
    engine = loaded(sqlite_url, [may, *base_events()])
    store = new_store(tmp_path, sqlite_url)
    first = sync(store, engine, days=40)
    assert first.extracted == [["2024-05-22", "2024-06-30"]]
    assert sorted(store.state()["months"]) == ["2024-05", "2024-06"]  # type: ignore[index]
    assert len(store.read_daily(date(2024, 5, 1), LAST_DAY)) == 4

    later = sync(store, engine, date(2024, 7, 2), days=5)
    assert later.months_dropped == ["2024-05"] and store.coverage() == (
        date(2024, 6, 28),
        date(2024, 7, 2),
    )
    assert not (store.root / "daily" / "month=2024-05.parquet").exists()
    assert store.read_daily(date(2024, 5, 1), LAST_DAY)["ds"].min() == pd.Timestamp("2024-06-29")


def test_without_web_events_there_is_nothing_to_sync(sqlite_url: str) -> None:
    engine = loaded(sqlite_url)
    assert has_web_events(engine, date(2024, 6, 1), LAST_DAY, "UTC", "UTC")
    assert not has_web_events(engine, date(2024, 7, 1), date(2024, 7, 9), "UTC", "UTC")
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE web_events"))
    assert not has_web_events(engine, date(2024, 6, 1), LAST_DAY, "UTC", "UTC")


def test_without_customer_optouts_no_customer_id_is_read(sqlite_url: str) -> None:
    engine = loaded(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE customer_optouts"))
    frames = list(read_web_events(engine, date(2024, 6, 29), LAST_DAY, "UTC", "UTC", KEY))
    events = pd.concat(frames)
    assert len(events) == 10 and events["customer"].isna().all()
