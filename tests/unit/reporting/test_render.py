"""The report's pages render from templates: escaped by default, tables formatted, every
section in page order."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from forecasting.reporting import REPORT_SECTIONS
from forecasting.reporting.planner import Card
from forecasting.reporting.plots import Image
from forecasting.reporting.render import Cell, render, table_of

ODD = "<b>bold</b>"
RTL = "قميص-٤٢"


def page(**overrides: object) -> str:
    """The report template rendered with a small hand-made context."""
    rows = pd.DataFrame(
        {"sku": [ODD, RTL], "location_id": ["st$\\foo$", "online"], "forecast": [1.5, np.nan]}
    )
    context = {
        "run_day": date(2024, 6, 30),
        "first_target_day": date(2024, 7, 1),
        "previous": date(2024, 6, 23),
        "cards": [Card("Promotion", "promoted", "ok"), Card("Series <forecast>", "1,234")],
        "reasons": [("Training", "<script>alert(1)</script>"), ("Promotion", "100% {0} %s")],
        "trend_plot": Image("live accuracy trend", "data:image/png;base64,iVBOR+/="),
        "accuracy_trend": table_of(rows, "accuracy-trend", 3),
        "accuracy_breakdown": table_of(rows.iloc[:0], "accuracy-breakdown", 3),
        "movers": table_of(rows, "movers-table"),
        "uncertainty_title": "Widest <uncertainty>",
        "uncertainty": table_of(rows, "uncertainty-table"),
        "replenishment": table_of(rows, "replenishment-table"),
        "replenishment_note": "",
        "catalogue": table_of(rows.iloc[:0], "catalogue-table"),
        "launches": table_of(rows.assign(neighbours=f"SKU-1 {ODD} (0.91)"), "launches-table"),
        "min_history_days": 28,
        "horizon_days": 28,
        "unmet": table_of(rows.iloc[:0], "unmet-table", 3),
        "unmet_note": "",
        "unmet_days": 7,
        "validation": table_of(rows, "validation-table", 0),
        "plots": [Image(f"forecast vs actual {ODD}@online", "data:image/png;base64,AAAA")],
    }
    return render("report.html.j2", **{**context, **overrides})


def test_table_cells_keep_numbers_sortable_and_text_as_text() -> None:
    frame = pd.DataFrame({"sku": ["A"], "n": [np.int64(12345)], "x": [0.123456], "y": [np.inf]})
    table = table_of(frame, "t", 3)
    assert table.columns == ("sku", "n", "x", "y")
    assert table.rows == (
        (
            Cell("A"),
            Cell("12,345", "12345", number=True),
            Cell("0.123", "0.123456", number=True),
            Cell("", "", number=True),
        ),
    )


def test_every_section_renders_in_page_order() -> None:
    html = page()
    found = re.findall(r'<section id="([a-z]+)">', html)
    assert tuple(found) == REPORT_SECTIONS
    assert html.startswith("<!DOCTYPE html>") and "Demand forecast report: 2024-06-30" in html
    assert "Forecasts for 2024-07-01 onwards" in html and "since 2024-06-23" in html


def test_shop_text_is_escaped_and_isolated_in_its_cell() -> None:
    html = page()
    assert ODD not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "SKU-1 &lt;b&gt;bold&lt;/b&gt; (0.91)" in html  # a neighbour's product name
    assert f'<td class="t" dir="auto">{RTL}</td>' in html
    assert '<td class="t" dir="auto">st$\\foo$</td>' in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<li>Promotion: 100% {0} %s</li>" in html
    assert "Series &lt;forecast&gt;" in html and "Widest &lt;uncertainty&gt;" in html
    assert '<img alt="forecast vs actual &lt;b&gt;bold&lt;/b&gt;@online"' in html
    assert '<td data-v="1.5">1.50</td>' in html and '<td data-v=""></td>' in html
    assert '<b class="ok">promoted</b>' in html


def test_empty_tables_and_no_plots_say_so() -> None:
    html = page(plots=[], trend_plot=None)
    assert '<p class="muted" id="catalogue-table">None.</p>' in html
    assert '<p class="muted" id="accuracy-breakdown">None.</p>' in html
    assert "No series to draw." in html and "<img" not in html


def test_the_script_and_stylesheet_are_inlined_verbatim() -> None:
    html = page()
    assert "(!isNaN(nx) && !isNaN(ny))" in html  # not escaped to &amp;&amp;
    assert 'document.body.setAttribute("data-ready", "true");' in html
    assert "td:first-child,th:first-child,td.t{text-align:left}" in html
