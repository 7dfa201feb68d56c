"""Ids are data, never markup (issue: runs that cannot trip over each other).

SKUs, a location and product names such as ``$\\x$`` (matplotlib math), ``%s`` and
``{0}`` (format strings), ``<b>`` (HTML) and right-to-left text go through two whole runs:
published verbatim, drawn literally in the MLflow plot and the planner report, escaped in
the report's HTML, logged without a formatting error.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import date

import mlflow
import pytest
from upath import UPath

from forecasting.config import EXPERIMENT_NAME, Settings
from forecasting.db import make_engine
from forecasting.publishing import read_published
from forecasting.registry.tracking import configure_mlflow
from forecasting.reporting import run_summary
from forecasting.sources import load_shop

pytestmark = pytest.mark.integration

ODD_SKUS = ["$\\x$", "%s", "{0}", "<b>bold</b>", "قميص-٤٢", "SKU-00006"]
ODD_LOCATION = "st$\\foo$"
FAST = {
    "models": ("seasonal_naive", "linear", "hgb"),
    "model_params": {"linear": {"max_origins": 15}, "hgb": {"max_iter": 15, "max_origins": 15}},
}


def odd_shop(shop):
    """``shop`` with its SKUs, one location and the product names replaced by odd text."""
    skus = dict(zip(shop.products["sku"], ODD_SKUS, strict=True))
    store = next(loc for loc in shop.locations["location_id"] if loc != "online")
    locations = {store: ODD_LOCATION}

    def rename(frame):
        frame = frame.copy()
        if "sku" in frame:
            frame["sku"] = frame["sku"].map(lambda s: skus.get(s, s))
        if "location_id" in frame:
            frame["location_id"] = frame["location_id"].map(lambda s: locations.get(s, s))
        return frame

    tables = {f.name: rename(getattr(shop, f.name)) for f in dataclasses.fields(shop)}
    names = ["<script>alert(1)</script>", "100% {0} %s", "$\\alpha$", "رف كتب", "<i>x</i>"]
    tables["products"]["name"] = [*names, "plain"]
    return type(shop)(**tables)


def test_odd_ids_go_through_two_whole_runs_literally(
    small_shop, sqlite_url: str, pipeline, caplog: pytest.LogCaptureFixture, capsys
) -> None:
    shop = odd_shop(small_shop)
    load_shop(make_engine(sqlite_url), shop)
    caplog.set_level(logging.INFO, logger="forecasting")
    pipeline(date(2024, 6, 29), sqlite_url, **FAST)  # trains: the backtest plot's titles
    out = pipeline(date(2024, 6, 30), sqlite_url, **FAST)  # the report's movers and plots

    rows, _ = read_published(make_engine(sqlite_url), date(2024, 6, 30))
    assert set(rows["sku"]) == set(ODD_SKUS)
    assert set(rows["location_id"]) == {"online", ODD_LOCATION}

    settings = Settings.from_env(env={}, data_dir=pipeline.data_dir)
    experiment = configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    (trained,) = mlflow.search_runs(
        [experiment], "tags.logical_date = '2024-06-29'", output_format="list"
    )
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(trained.info.run_id)}
    assert "backtest_plot.png" in artifacts  # drawn with $\x$ and st$\foo$ in its titles

    page = UPath(out["report"]["uri"]).read_text(encoding="utf-8")
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    assert '<td class="t" dir="auto">قميص-٤٢</td>' in page
    assert "$\\x$" in page and "st$\\foo$" in page and "{0}" in page and "%s" in page
    assert page.count('<img alt="forecast vs actual') >= 1

    summary = run_summary(date(2024, 6, 30), settings)  # the date's run, read back as text
    assert "Training:    reuse" in summary and "Serving:     version 1 scored" in summary
    assert "Published:   " in summary and "Report:      " in summary

    for record in caplog.records:
        record.getMessage()  # every log line formats (no id was taken for a format string)
    assert "Logging error" not in capsys.readouterr().err
