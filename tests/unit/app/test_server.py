"""The planner app over a real SQLite warehouse, through HTTP (no browser: that is
tests/integration/test_planner_app.py): pages, escaping, decisions and their validation,
missing tables, the report route."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from tests.unit.app import warehouse as wh
from tests.unit.app.serving import Reply, http, running


class Client:
    """Requests to a running app (paths relative to it)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(
        self, path: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        query = ("&" if "?" in path else "?") + urlencode(params) if params else ""
        return http(self.base + path + query, headers=headers)

    def post(self, path: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Reply:
        headers = {"content-type": "application/x-www-form-urlencoded", **(headers or {})}
        return http(self.base + path, data=urlencode(form).encode(), headers=headers, method="POST")


@pytest.fixture()
def engine(tmp_path: Path) -> sa.Engine:
    from forecasting.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    wh.build(engine)
    return engine


@pytest.fixture()
def client(engine: sa.Engine, tmp_path: Path) -> Iterator[Client]:
    from forecasting.app import create_app
    from forecasting.reporting.planner import REPORT_ARTIFACT
    from forecasting.storage import Storage

    root = tmp_path / "storage"
    with Storage.from_uri(str(root)).write_stage(wh.RUN, "report") as folder:
        (folder / REPORT_ARTIFACT).write_text("<html><title>report of the run</title></html>")
    (tmp_path / "secret.txt").write_text("not for planners")
    with running(create_app(engine, report_root=root)) as base:
        yield Client(base)


def series_url(sku: str, location: str) -> str:
    return "/series?" + urlencode({"sku": sku, "location_id": location})


def post(client: Client, **form: str) -> Reply:
    return client.post("/series/decision", form)


def test_index_lists_the_latest_run_with_totals_changes_and_suggestions(
    client: Client,
) -> None:
    page = client.get("/")
    assert page.status == 200
    text = page.text
    assert "Forecasts of 2024-06-30" in text and "run of 2024-06-23" in text
    assert 'href="/report/2024-06-30"' in text
    # the chair: 28 days at 6 a day (x sin wave) and +0.5 a day against the previous run
    total = sum(v for _, v in wh._daily(6.0, wh.RUN, 0.0))
    assert f"{total:,.1f}" in text and "+14.0" in text
    assert "Garden chair" in text and ">40<" in text
    # the hostile name is text, never markup
    assert wh.HOSTILE not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;" in text
    assert "<script" not in text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_index_filters_by_text_category_and_location(client: Client) -> None:
    assert client.get("/", params={"q": "garden"}).text.count("/series?") == 1
    found = client.get("/", params={"q": "ALERT(1)"}).text
    assert found.count("/series?") == 1 and "K%C3%B6ln+S%C3%BCd" in found
    assert client.get("/", params={"location": "Berlin"}).text.count("/series?") == 2
    assert client.get("/", params={"category": "home"}).text.count("/series?") == 1
    none = client.get("/", params={"q": "no such thing"}).text
    assert 'id="no-match"' in none


def test_series_page_shows_drivers_that_add_up_changes_leadtime_and_the_suggestion(
    client: Client,
) -> None:
    page = client.get(series_url("SKU 2/ü?&x=1", "Köln Süd"))
    assert page.status == 200
    text = page.text
    assert '<h1 id="product-name">&lt;script&gt;alert(1)&lt;/script&gt;' in text
    assert 'class="fan"' in text and 'class="p50"' in text and 'class="actual"' in text
    # each bucket: the sum of the contributions equals the forecast over its days
    drivers = text.split('id="drivers"')[1].split("</table>")[0]
    daily = wh._daily(3.0, wh.RUN, 0.0)
    for first, last in wh.BUCKETS.values():
        bucket = f"{sum(v for _, v in daily[first - 1 : last]):,.1f}"
        assert drivers.count(f"<td>{bucket}</td>") == 2, bucket  # the sum and the forecast
    assert 'id="changes"' in text and "new model" in text and "+2.8" in text  # 20 % of 28 x 0.5
    assert 'id="leadtime"' in text and 'id="suggested-qty">12<' in text
    assert 'name="order_qty"' in text and 'value="12"' in text


def test_a_series_without_drivers_or_suggestion_says_so(client: Client) -> None:
    text = client.get(series_url("SKU-3", "Berlin")).text
    assert 'id="no-drivers"' in text and 'id="no-changes"' in text
    assert 'id="no-suggestion"' in text and 'id="leadtime"' in text


def test_an_unknown_series_is_a_404_page(client: Client) -> None:
    page = client.get(series_url("SKU-1", "Paris"))
    assert page.status == 404 and "no series" in page.text


def test_a_decision_is_a_new_row_and_redirects_back(client: Client, engine: sa.Engine) -> None:
    before = wh.snapshot(engine)
    keys = {"sku": "SKU 2/ü?&x=1", "location_id": "Köln Süd", "run_date": "2024-06-30"}
    approved = post(client, **keys, order_qty="12", decided_by=" Ada ")
    assert approved.status == 303
    saved = {"sku": keys["sku"], "location_id": keys["location_id"], "saved": "approved"}
    assert approved.headers["location"] == "/series?" + urlencode(saved)
    assert "planner_name=Ada" in approved.headers["set-cookie"]
    assert "HttpOnly" in approved.headers["set-cookie"]
    edited = post(client, **keys, order_qty="15.5", note="pallet of 15", decided_by="Bob")
    assert edited.status == 303 and edited.headers["location"].endswith("saved=edited")
    rows = wh.decisions(engine)
    assert [(r["decision"], r["order_qty"], r["suggested_qty"], r["decided_by"]) for r in rows] in (
        [("approved", 12.0, 12.0, "Ada"), ("edited", 15.5, 12.0, "Bob")],
        [("edited", 15.5, 12.0, "Bob"), ("approved", 12.0, 12.0, "Ada")],  # same second
    )
    assert {r["note"] for r in rows} == {None, "pallet of 15"}
    stamp = datetime.fromisoformat(str(rows[0]["decided_at"])).replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60
    assert wh.snapshot(engine) == before  # nothing the app reads changed
    page = client.get(series_url(keys["sku"], keys["location_id"])).text
    assert 'id="decisions"' in page and "pallet of 15" in page


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"order_qty": "-5"}, "at least 0"),
        ({"order_qty": "ten"}, "must be a number, not &#39;ten&#39;"),
        ({"order_qty": "nan"}, "at least 0"),
        ({"order_qty": ""}, "must be a number"),
        ({"decided_by": "  "}, "name field is required"),
        ({"note": "x" * 501}, "longer than 500"),
        ({"run_date": "2024-06-23"}, "no suggestion for SKU-1 at Berlin on 2024-06-23"),
    ],
)
def test_a_bad_decision_is_refused_with_a_clear_page(
    client: Client, engine: sa.Engine, form: dict[str, str], message: str
) -> None:
    base = {"sku": "SKU-1", "location_id": "Berlin", "run_date": "2024-06-30"}
    base |= {"order_qty": "40", "decided_by": "Ada"}
    page = post(client, **(base | form))
    assert page.status == 400
    assert message in page.text and "Decision not recorded" in page.text
    assert wh.decisions(engine) == []


def test_the_proxy_user_decides_and_other_sites_cannot_post(
    client: Client, engine: sa.Engine
) -> None:
    form = {"sku": "SKU-1", "location_id": "Berlin", "run_date": "2024-06-30", "order_qty": "40"}
    page = client.get(series_url("SKU-1", "Berlin"), headers={"Remote-User": "carol"}).text
    assert 'id="proxy-user">carol<' in page and 'name="decided_by"' not in page
    foreign = client.post("/series/decision", form, headers={"origin": "http://evil.test"})
    assert foreign.status == 403 and wh.decisions(engine) == []
    done = client.post(
        "/series/decision",
        {**form, "decided_by": "mallory"},
        headers={"origin": client.base, "x-forwarded-user": "carol"},
    )
    assert done.status == 303 and "set-cookie" not in done.headers
    assert [r["decided_by"] for r in wh.decisions(engine)] == ["carol"]


def test_the_report_is_served_read_only_and_nothing_else(client: Client) -> None:
    report = client.get("/report/2024-06-30")
    assert report.status == 200 and "report of the run" in report.text
    assert "script-src 'unsafe-inline'" in report.headers["content-security-policy"]
    for bad in ("2024-06-23", "2024-02-30", "..%2F..%2Fsecret.txt", "2024-06-30%2F..%2F.."):
        page = client.get(f"/report/{bad}")
        assert page.status == 404, bad
        assert "not for planners" not in page.text
    assert client.post("/report/2024-06-30", {}).status == 405


def test_missing_tables_do_not_break_the_pages(tmp_path: Path) -> None:
    """A warehouse from before the planner tables: forecasts only."""
    from forecasting.app import create_app
    from forecasting.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    wh.build(engine, tables=("forecast_runs", "demand_forecast", "demand_forecast_leadtime"))
    with engine.begin() as conn:
        for table in (
            "demand_forecast_drivers",
            "replenishment_suggestions",
            "replenishment_decisions",
            "forecast_products",
            "demand_history",
        ):
            conn.execute(sa.text(f"DROP TABLE {table}"))
    with running(create_app(engine)) as base:
        check_old_warehouse(Client(base))


def check_old_warehouse(client: Client) -> None:
    index = client.get("/")
    assert index.status == 200 and "No product names yet" in index.text
    assert "report" not in index.text.split("<main>")[1].split("<form")[0]
    page = client.get(series_url("SKU-1", "Berlin"))
    assert page.status == 200
    assert 'id="no-drivers"' in page.text and 'id="no-suggestion"' in page.text
    assert 'id="no-decisions"' in page.text and 'class="p50"' in page.text
    refused = post(
        client,
        sku="SKU-1",
        location_id="Berlin",
        run_date="2024-06-30",
        order_qty="1",
        decided_by="Ada",
    )
    assert refused.status == 400 and "no replenishment_decisions table" in refused.text


def test_an_empty_warehouse_says_nothing_is_published(tmp_path: Path) -> None:
    from forecasting.app import create_app
    from forecasting.db import make_engine

    with running(create_app(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))) as base:
        client = Client(base)
        assert "No forecasts yet" in client.get("/").text
        assert client.get("/favicon.ico").status == 204
        assert client.get("/static/app.css").headers["content-type"].startswith("text/css")
