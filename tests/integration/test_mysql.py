"""The same SQL against the real MariaDB server gives the same extract as SQLite."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from upath import UPath

from forecasting.db import make_engine
from forecasting.extraction import ExtractWindow, extract_all
from forecasting.publishing import PublishedRun, publish_forecasts, read_published
from forecasting.sources import load_shop

pytestmark = pytest.mark.integration

WINDOW = ExtractWindow.for_logical_date(date(2024, 6, 30), history_days=420, horizon=14)


def test_mysql_and_sqlite_extracts_are_identical(
    small_shop, mysql_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    mysql, sqlite = make_engine(mysql_url), make_engine(sqlite_url)
    assert load_shop(mysql, small_shop) == load_shop(sqlite, small_shop)
    with mysql.connect() as conn:  # binary collation: stock codes are case-sensitive
        collation = conn.execute(
            sa.text(
                "SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'products'"
            )
        ).scalar_one()
    assert collation == "utf8mb4_bin"
    a = extract_all(mysql, WINDOW, UPath(tmp_path / "mysql"))
    b = extract_all(sqlite, WINDOW, UPath(tmp_path / "sqlite"))
    for name in ("history", "future", "events", "prices"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.cleaning == b.cleaning
    assert len(a.history) > 1000 and a.history["unique_id"].nunique() == 12


def test_publish_to_mysql_is_transactional_and_idempotent(mysql_url: str) -> None:
    engine = make_engine(mysql_url)
    days = pd.date_range("2024-07-01", periods=2)
    frame = pd.DataFrame(
        {
            "unique_id": "A@x",
            "sku": "A",
            "location_id": "x",
            "ds": days,
            "forecast": [1.0, 2.0],
            "p10": [0.0, 1.0],
            "p50": [1.0, 2.0],
            "p90": [2.0, 3.0],
        }
    )
    run = PublishedRun(date(2024, 6, 30), "m", "1", "r", 2, 1, 2)
    publish_forecasts(engine, frame, run)
    publish_forecasts(engine, frame.assign(forecast=[5.0, 6.0]), run)
    broken = frame.assign(sku=["A", None])
    with pytest.raises(sa.exc.IntegrityError):
        publish_forecasts(engine, broken, run)
    rows, runs = read_published(engine, date(2024, 6, 30))
    assert rows["forecast"].tolist() == [5.0, 6.0] and len(runs) == 1


def test_published_keys_round_trip_exactly_on_mysql(mysql_url: str) -> None:
    """A SKU with a trailing space and one without are two keys (NO PAD collation), and
    255-character keys fit."""
    engine = make_engine(mysql_url)
    skus = ["ABC", "ABC ", "x" * 255, "qu'ote;--", "\u00fcml\u00e4ut \U0001f600"]
    frame = pd.DataFrame(
        {
            "unique_id": [f"{s}@x" for s in skus],
            "sku": skus,
            "location_id": "x",
            "ds": pd.Timestamp("2024-07-01"),
            "forecast": 1.0,
            "p10": 0.0,
            "p50": 1.0,
            "p90": 2.0,
        }
    )
    run = PublishedRun(date(2024, 6, 30), "m", "1", "r", 1, len(skus), len(skus))
    assert publish_forecasts(engine, frame, run) == len(skus)
    rows, _ = read_published(engine, date(2024, 6, 30))
    assert sorted(rows["sku"]) == sorted(skus)


def test_scale_shop_bulk_loads_into_mysql(mysql_url: str, tmp_path: Path) -> None:
    """`make scale-seed`'s path: generated TSV files, LOAD DATA, indexes rebuilt; a source
    table without a file (customer opt-outs) stays empty instead of failing the load."""
    from forecasting.sources.scale import bulk_load, write_scale_shop

    counts = write_scale_shop(tmp_path, n_skus=4, n_locations=2, days=60)
    loaded = bulk_load(make_engine(mysql_url), tmp_path)
    assert loaded["order_lines"] == counts["order_lines"] > 0
    assert loaded["customer_optouts"] == 0
    with make_engine(mysql_url).connect() as conn:
        stored = conn.execute(sa.text("SELECT COUNT(*) FROM order_lines")).scalar_one()
        events = pd.read_sql(sa.text("SELECT * FROM web_events"), conn)
    assert stored == counts["order_lines"]
    # The event log of the last 90 days, written a day at a time: times, NULLs and the
    # batch-prefixed ids as generated.
    assert loaded["web_events"] == counts["web_events"] == len(events) > 1000
    assert events["occurred_at"].min() >= pd.Timestamp("2024-07-01") - pd.Timedelta(days=89)
    assert events["occurred_at"].max() < pd.Timestamp("2024-07-02")
    assert events["occurred_at"].dt.second.nunique() > 1  # seconds survived the TSV
    searches = events["event_type"] == "search"
    assert events.loc[searches, "sku"].isna().all() and events.loc[~searches, "query"].isna().all()
    assert (
        events["customer_id"].isna().any()
        and events["customer_id"].dropna().str.startswith("B000C").all()
    )
    assert events["sku"].dropna().isin([f"SKU-{i:05d}" for i in range(1, 5)]).all()
