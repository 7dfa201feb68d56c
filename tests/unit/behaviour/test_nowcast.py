"""The intraday surge alert on a hand-made shop: 28 days of ordinary web events, a
published forecast for the judged day, and a surge of views for one series on it."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from forecasting.behaviour.nowcast import (
    BASELINE_STAGE,
    NoForecastError,
    NowcastSettings,
    alert_moment,
    nowcast,
    read_alerts,
)
from forecasting.cli.app import main
from forecasting.db import make_engine
from forecasting.lifecycle.publish import TableWrite, publish_in_one_transaction
from forecasting.sources.shop import ShopData, create_forecast_tables, load_shop
from forecasting.storage import Storage

DAY = date(2024, 7, 1)  # the judged shop day
SKUS = ("A", "B", "C")
LOCATIONS = ("L1", "L2")
SURGE = ("A", "L1")
UTC = {"shop_tz": "UTC", "source_tz": "UTC"}
UNITS_PER_DAY = 3  # every series sells 3 units a day
VIEWS_PER_UNIT = 12
CARTS_PER_UNIT = 2


def _shop(shop_tz: str, source_tz: str, seed: int = 7) -> ShopData:
    """28 days of orders and events before DAY, events of DAY up to 15:00 (shop time), and
    200 extra views of SURGE between 10:00 and 14:00 of DAY."""
    rng = np.random.default_rng(seed)
    shop, source = ZoneInfo(shop_tz), ZoneInfo(source_tz)

    def to_source(local: pd.Series) -> pd.Series:
        aware = local.dt.tz_localize(shop)
        return aware.dt.tz_convert(source).dt.tz_localize(None)

    days = [DAY - timedelta(days=i) for i in range(28, 0, -1)]
    orders, lines, events = [], [], []
    for d in [*days, DAY]:
        for sku in SKUS:
            for loc in LOCATIONS:
                if d < DAY:
                    oid = f"o-{d}-{sku}-{loc}"
                    orders.append((oid, None, loc, datetime(d.year, d.month, d.day, 12), "paid"))
                    lines.append((oid, 1, sku, UNITS_PER_DAY, 10.0))
                end_hour = 24 if d < DAY else 15
                for kind, per_unit in (("view", VIEWS_PER_UNIT), ("cart_add", CARTS_PER_UNIT)):
                    n = rng.poisson(per_unit * UNITS_PER_DAY * end_hour / 24)
                    minutes = rng.uniform(0, end_hour * 60, n)
                    events += [(d, m, kind, sku, loc) for m in minutes]
    minutes = rng.uniform(600, 840, 200)
    events += [(DAY, m, "view", *SURGE) for m in minutes]
    ev = pd.DataFrame(events, columns=["d", "minute", "event_type", "sku", "location_id"])
    local = pd.to_datetime(ev["d"]) + pd.to_timedelta(ev["minute"], unit="min")
    web_events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(len(ev))],
            "occurred_at": to_source(local.dt.floor("s")),
            "session_id": [f"s{i // 5}" for i in range(len(ev))],
            "customer_id": None,
            "event_type": ev["event_type"],
            "sku": ev["sku"],
            "location_id": ev["location_id"],
            "query": None,
        }
    )
    order_frame = pd.DataFrame(
        orders, columns=["order_id", "customer_id", "location_id", "ordered_at", "status"]
    )
    order_frame["ordered_at"] = to_source(pd.to_datetime(order_frame["ordered_at"]))
    products = pd.DataFrame(
        {
            "sku": list(SKUS),
            "name": [f"Product {s}" for s in SKUS],
            "description": "",
            "category": "things",
            "list_price": 10.0,
            "launched_on": pd.Timestamp("2023-01-01"),
        }
    )
    return ShopData(
        products=products,
        locations=pd.DataFrame(
            {"location_id": list(LOCATIONS), "name": list(LOCATIONS), "kind": "store"}
        ),
        orders=order_frame,
        order_lines=pd.DataFrame(
            lines, columns=["order_id", "line_no", "sku", "quantity", "unit_price"]
        ),
        promotions=pd.DataFrame(
            columns=["promotion_id", "sku", "location_id", "starts_on", "ends_on", "discount_pct"]
        ),
        calendar_events=pd.DataFrame(columns=["event_date", "name", "kind"]),
        web_events=web_events,
    )


def _publish(engine, run_date: date, targets: list[date]) -> None:
    """A published forecast of run_date: UNITS_PER_DAY for every series and target day."""
    create_forecast_tables(engine)
    rows = pd.DataFrame(
        [
            {
                "run_date": run_date.isoformat(),
                "sku": sku,
                "location_id": loc,
                "target_date": t.isoformat(),
                "forecast": float(UNITS_PER_DAY),
                "p10": 2.0,
                "p50": 3.0,
                "p90": 4.0,
                "model_name": "hgb",
                "model_version": "1",
                "cold_start": 0,
                "history_days": 400,
            }
            for sku in SKUS
            for loc in LOCATIONS
            for t in targets
        ]
    )
    write = TableWrite(
        "publish/delete_demand_forecast",
        {"run_date": run_date.isoformat()},
        "publish/insert_demand_forecast",
        rows,
    )
    publish_in_one_transaction(engine, [write], "test forecast")


def _check_surge(engine, shop_tz: str, source_tz: str) -> None:
    at = datetime(2024, 7, 1, 15, 0)
    result = nowcast(engine, engine, at, shop_tz=shop_tz, source_tz=source_tz)
    alerts = result.alerts
    assert result.written and result.series_judged == len(SKUS) * len(LOCATIONS)
    assert (result.alert_date, result.alert_hour) == (DAY, 15)
    assert result.forecast_run_date == DAY - timedelta(days=1)
    assert result.baseline_days == 28
    assert result.day_share == pytest.approx(15 / 24, abs=0.03)  # uniform hours
    # exactly the surging series, on views, above, far beyond the thresholds
    assert alerts[["sku", "location_id", "metric", "direction"]].values.tolist() == [
        [*SURGE, "views", "above"]
    ]
    row = alerts.iloc[0]
    expected = UNITS_PER_DAY * VIEWS_PER_UNIT * 15 / 24  # about 22 views by 15:00
    assert row["expected"] == pytest.approx(expected, rel=0.15)
    assert row["observed"] == pytest.approx(expected + 200, abs=25)
    assert row["ratio"] >= 2 and row["z_score"] >= 4
    stored = read_alerts(engine, DAY, 15)
    assert stored[["sku", "location_id", "metric"]].values.tolist() == [[*SURGE, "views"]]
    # the same moment again: the same rows, not twice as many
    again = nowcast(engine, engine, at, shop_tz=shop_tz, source_tz=source_tz)
    pd.testing.assert_frame_equal(read_alerts(engine, DAY, 15), stored)
    assert len(again.alerts) == 1


def test_a_surge_alerts_its_series_only_and_rerunning_gives_the_same_rows(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = make_engine(url)
    load_shop(engine, _shop("UTC", "UTC"))
    _publish(engine, DAY - timedelta(days=1), [DAY, DAY + timedelta(days=1)])
    _check_surge(engine, "UTC", "UTC")

    # the day's baseline kept in storage: the next hour reads it back, same judgement
    storage = Storage.from_uri(str(tmp_path / "storage"))
    first = nowcast(engine, engine, datetime(2024, 7, 1, 14, 0), **UTC, cache=storage)
    second = nowcast(engine, engine, datetime(2024, 7, 1, 15, 0), **UTC, cache=storage)
    assert not first.baseline_cached and second.baseline_cached
    assert storage.committed(DAY - timedelta(days=1), BASELINE_STAGE) is not None
    pd.testing.assert_frame_equal(second.alerts, read_alerts(engine, DAY, 15), check_dtype=False)
    assert second.inverse_theta == first.inverse_theta and len(second.alerts) == 1

    # the command prints the alert and how many series were judged
    cli = ["nowcast", "--data-root", str(tmp_path), "--source-url", url, "--dry-run"]
    assert main([*cli, "--at", "2024-07-01 15:00"]) == 0
    out = capsys.readouterr().out
    assert "1 alert(s) among 6 series at 2024-07-01 hour 15" in out
    assert re.search(r"\n  A +L1 +views +\d+ +\d+\.\d +\d+\.\d\d +\d+\.\d  above\n", out)
    assert "not written (--dry-run)" in out

    # before the surge began (09:00) no series runs far from its forecast
    quiet = nowcast(engine, engine, datetime(2024, 7, 1, 9, 0), shop_tz="UTC", source_tz="UTC")
    assert (
        quiet.written and quiet.alerts.empty and quiet.series_judged == len(SKUS) * len(LOCATIONS)
    )
    assert read_alerts(engine, DAY, 9).empty

    # the next day has a forecast but no events yet: a message, nothing written
    late = nowcast(engine, engine, datetime(2024, 7, 2, 10, 0), shop_tz="UTC", source_tz="UTC")
    assert not late.written and "no web events on 2024-07-02" in late.message
    assert read_alerts(engine, date(2024, 7, 2), 10).empty

    # a day nobody forecast: a clear error
    with pytest.raises(NoForecastError, match="no forecast published yet for 2024-07-03"):
        nowcast(engine, engine, datetime(2024, 7, 3, 10, 0), shop_tz="UTC", source_tz="UTC")

    # stricter thresholds: the surge (z about 30) no longer alerts, and the moment's rows go
    strict = NowcastSettings(threshold=100.0)
    result = nowcast(
        engine, engine, datetime(2024, 7, 1, 15, 0), shop_tz="UTC", source_tz="UTC",
        settings=strict,
    )  # fmt: skip
    assert result.written and result.alerts.empty and read_alerts(engine, DAY, 15).empty


def test_a_shop_without_web_events_is_told_so(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    result = nowcast(engine, engine, datetime(2024, 7, 1, 15), shop_tz="UTC", source_tz="UTC")
    assert not result.written and "no web_events table" in result.message


def test_the_surge_on_mariadb_with_shop_and_source_timezones(mysql_url: str) -> None:
    engine = make_engine(mysql_url)
    load_shop(engine, _shop("Europe/Berlin", "UTC"))
    _publish(engine, DAY - timedelta(days=1), [DAY])
    _check_surge(engine, "Europe/Berlin", "UTC")


def test_alert_moment_midnight_closes_the_day_before() -> None:
    assert alert_moment(datetime(2024, 7, 2, 0, 0)) == (DAY, 24, 1440.0)
    assert alert_moment(datetime(2024, 7, 1, 15, 0)) == (DAY, 15, 900.0)
    assert alert_moment(datetime(2024, 7, 1, 15, 30))[:2] == (DAY, 16)
    with pytest.raises(ValueError, match="naive local time"):
        alert_moment(datetime(2024, 7, 1, 15, tzinfo=ZoneInfo("UTC")))
    with pytest.raises(ValueError, match="min_ratio > 1"):
        NowcastSettings(min_ratio=1.0)
