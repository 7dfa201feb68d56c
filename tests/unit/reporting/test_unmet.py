"""Unmet demand in the planner report and the summary: the most searched queries of the
last week that match no product or convert nothing, from search_demand."""

from __future__ import annotations

from datetime import date

import pytest

from forecasting.config import Settings
from forecasting.db import insert_rows, make_engine
from forecasting.reporting.planner import _unmet
from forecasting.reporting.summary import _unmet_lines
from forecasting.reporting.warehouse import unmet_searches
from forecasting.resources import Resources
from forecasting.sources.shop import create_forecast_tables
from tests.unit.reporting.test_render import page

DAY = date(2024, 6, 30)
COLUMNS = (
    "search_date",
    "query",
    "searches",
    "sessions",
    "matching_products",
    "converted_sessions",
    "run_date",
)
ROWS = [
    # searched on two days of the week: the sums count
    ("2024-06-29", "blue <velvet> sofa", 30, 20, 0, 0, "2024-06-30"),
    ("2024-06-30", "blue <velvet> sofa", 25, 15, 0, 0, "2024-06-30"),
    ("2024-06-30", "candle", 90, 60, 4, 0, "2024-06-30"),  # matches, nobody buys
    ("2024-06-30", "mug", 500, 300, 7, 40, "2024-06-30"),  # served: not unmet
    ("2024-06-28", "lamp", 10, 8, 0, 2, "2024-06-30"),  # matches nothing, converts a bit
    ("2024-06-20", "old gap", 900, 600, 0, 0, "2024-06-20"),  # before the week
]


def _warehouse(url: str, rows: list[tuple[object, ...]]):
    engine = make_engine(url)
    create_forecast_tables(engine)
    with engine.begin() as conn:
        insert_rows(conn, "search_demand", COLUMNS, rows)
    return engine


def _check(engine) -> None:
    found = unmet_searches(engine, DAY, rows=10)
    assert found is not None
    assert found[["query", "searches", "sessions", "matching_products"]].values.tolist() == [
        ["candle", 90, 60, 4],
        ["blue <velvet> sofa", 55, 35, 0],
        ["lamp", 10, 8, 0],
    ]
    assert found["why"].tolist() == ["no cart adds", "matches nothing", "matches nothing"]
    assert found["conversion"].tolist() == pytest.approx([0.0, 0.0, 0.25])
    assert unmet_searches(engine, DAY, rows=1)["query"].tolist() == ["candle"]


def test_the_top_unmet_queries_of_the_week(tmp_path) -> None:
    engine = _warehouse(f"sqlite:///{tmp_path / 'wh.db'}", ROWS)
    _check(engine)

    html = page(**_unmet(engine, DAY))
    section = html[html.index('<section id="unmet">') : html.index('<section id="validation">')]
    assert '<table class="sortable" id="unmet-table">' in section
    assert "blue &lt;velvet&gt; sofa" in section and "old gap" not in section
    assert "<th>sessions with a cart add</th>" in section

    settings = Settings.from_env(env={}, data_dir=tmp_path / "data")
    resources = Resources.from_settings(settings).replace(warehouse=engine)
    (line,) = _unmet_lines(resources, DAY)
    assert line.startswith("Unmet demand: most searched of the 7 days to 2024-06-30")
    assert "'candle' 90 searches (no cart adds); 'blue <velvet> sofa' 55 searches" in line


def test_no_table_or_no_rows_says_so_briefly(tmp_path) -> None:
    bare = make_engine(f"sqlite:///{tmp_path / 'bare.db'}")
    assert unmet_searches(bare, DAY, rows=10) is None
    html = page(**_unmet(bare, DAY))
    assert "The warehouse has no search_demand table: no searches." in html
    settings = Settings.from_env(env={}, data_dir=tmp_path / "data")
    assert _unmet_lines(Resources.from_settings(settings).replace(warehouse=bare), DAY) == []

    empty = _warehouse(f"sqlite:///{tmp_path / 'empty.db'}", [])
    html = page(**_unmet(empty, DAY))
    assert '<p class="muted" id="unmet-table">None.</p>' in html
    (line,) = _unmet_lines(Resources.from_settings(settings).replace(warehouse=empty), DAY)
    assert "no query of the 7 days to 2024-06-30 in search_demand matched nothing" in line


def test_the_top_unmet_queries_on_mariadb(mysql_url: str) -> None:
    _check(_warehouse(mysql_url, ROWS))
