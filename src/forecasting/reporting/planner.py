"""The planner report: one self-contained HTML page per run date.

Written by the DAG's ``report`` task (and ``forecasting report --date D``) to the run's
``report`` stage next to its partitions (``<storage>/ds=D/report/report.html``) and as
the artifact ``report/report.html`` of the date's MLflow run. It renders from
``templates/report.html.j2`` (autoescaped) and needs no network to open: plots are PNG
images (matplotlib) embedded as data URIs, the table sorting is a few lines of inline
JavaScript (``templates/report.js``), there is no external stylesheet or font.

Sections: headline numbers (series, rows, model version, training and promotion decision,
live accuracy and its trend), week-over-week changes (the series whose 28-day forecast
moved most since the run a week earlier), the widest uncertainty (P10-P90 width over the
28 days relative to the P50), new and stopped series, new products (launching in the horizon or young: their forecast
totals and the products their text is closest to), unmet demand (the most searched queries
of the last week that match no product or convert nothing, from ``search_demand``),
validation findings, and
forecast-vs-actual plots of the top movers. Every table sorts by a click on its header.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from forecasting.config import Settings
from forecasting.reporting import warehouse
from forecasting.reporting.inputs import (
    date_run_of,
    launches,
    monitor_verdict,
    plot_history,
    validation_findings,
)
from forecasting.reporting.plots import Image, forecast_plot, trend_plot
from forecasting.reporting.render import render, table_of
from forecasting.resources import Resources
from forecasting.scoring.cold_start import MIN_HISTORY_DAYS
from forecasting.storage import Storage

if TYPE_CHECKING:
    from forecasting.registry.runs import DateRun

__all__ = ["REPORT_ARTIFACT", "REPORT_SECTIONS", "build_report", "write_report"]

log = logging.getLogger(__name__)

#: Where the report goes in the date's MLflow run and in the run's ``report`` stage.
REPORT_ARTIFACT = "report.html"
#: Section ids, in page order (the template's; the browser test checks each renders).
REPORT_SECTIONS = (
    "headline",
    "accuracy",
    "movers",
    "uncertainty",
    "replenishment",
    "catalogue",
    "launches",
    "unmet",
    "validation",
    "plots",
)
#: Rows shown in the movers and uncertainty tables.
TOP_ROWS = 20
#: Series drawn in the forecast-vs-actual plots.
PLOT_SERIES = 4
#: Days of actuals before the forecast in the plots.
PLOT_HISTORY = 56
#: Accuracy columns of the trend and of today's breakdown.
_TREND_COLUMNS = ["monitor_date", "n_rows", "wape", "bias", "rmsse", "mase", "pinball", "coverage"]
_BREAKDOWN_COLUMNS = [
    "dimension",
    "value",
    "n_rows",
    "wape",
    "bias",
    "rmsse",
    "pinball",
    "coverage",
]


@dataclass(frozen=True)
class Card:
    """A headline number (``css``: ``ok``/``bad`` colours it)."""

    label: str
    value: str
    css: str = ""


def _movers(now: pd.DataFrame, then: pd.DataFrame) -> pd.DataFrame:
    """Series in both runs, the largest absolute change of the 28-day total first."""
    both = now.merge(then, on=["sku", "location_id"], how="inner", suffixes=("", "_before"))
    both["change"] = both["forecast"] - both["forecast_before"]
    both["change_pct"] = (
        100 * both["change"] / both["forecast_before"].where(both["forecast_before"] > 0)
    )
    return both.reindex(both["change"].abs().sort_values(ascending=False).index).head(TOP_ROWS)


def _named(frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """``frame`` with a ``product`` column (the product's name) after ``sku``."""
    if "sku" not in frame.columns or not names:
        return frame
    out = frame.copy()
    out.insert(
        list(out.columns).index("sku") + 1,
        "product",
        out["sku"].astype(str).map(names).fillna(""),
    )
    return out


def _why(
    movers: pd.DataFrame,
    changes: pd.DataFrame | None,
    drivers: pd.DataFrame | None,
    previous_day: date | None,
) -> list[str]:
    """Per mover, why its total moved: the change's parts when the previous run explained
    it (``demand_forecast_changes`` against ``previous_day``), else what drives today's
    forecast against the series' recent average; empty where nothing was explained."""
    from forecasting.explain import describe_drivers

    keys = ["sku", "location_id"]
    if changes is not None and previous_day is not None and len(changes):
        same = pd.to_datetime(changes["previous_run_date"]).dt.date == previous_day
        changes = changes.loc[same]
    by_change = dict(iter(changes.groupby(keys))) if changes is not None and len(changes) else {}
    by_driver = dict(iter(drivers.groupby(keys))) if drivers is not None and len(drivers) else {}
    out = []
    for sku, location in zip(movers["sku"], movers["location_id"], strict=True):
        prefix = f"{sku} ({location}) "
        if (sku, location) in by_change:
            out.append(describe_drivers(by_change[sku, location]).removeprefix(prefix))
        elif (sku, location) in by_driver:
            text = describe_drivers(by_driver[sku, location]).removeprefix(prefix)
            out.append(f"vs recent average {text}")
        else:
            out.append("")
    return out


def _movers_table(movers: pd.DataFrame, run_day: date, previous_day: date | None) -> pd.DataFrame:
    return movers.loc[
        :, ["sku", "location_id", "forecast_before", "forecast", "change", "change_pct", "why"]
    ].rename(
        columns={
            "forecast_before": f"28-day total ({previous_day})",
            "forecast": f"28-day total ({run_day})",
            "change_pct": "change %",
        }
    )


def _catalogue(now: pd.DataFrame, then: pd.DataFrame) -> pd.DataFrame:
    """Series new since the earlier run and series it had that stopped (none without one)."""
    keys_now = set(zip(now["sku"], now["location_id"], strict=True))
    keys_then = set(zip(then["sku"], then["location_id"], strict=True))
    rows = []
    if len(then):
        rows = [
            {"sku": s, "location_id": loc, "status": "new"}
            for s, loc in sorted(keys_now - keys_then)
        ]
        rows += [
            {"sku": s, "location_id": loc, "status": "stopped"}
            for s, loc in sorted(keys_then - keys_now)
        ]
    return pd.DataFrame(rows, columns=["sku", "location_id", "status"])


def _headline(
    run_day: date,
    now: pd.DataFrame,
    run_row: dict[str, Any],
    tags: dict[str, str],
    overall: pd.DataFrame,
    verdict: dict[str, Any] | None,
) -> dict[str, Any]:
    """The headline's cards and the decisions' reasons."""
    live = overall.iloc[-1] if len(overall) else None
    promotion = tags.get("promotion.decision", "n/a")
    cards = [
        Card("Run date", str(run_day)),
        Card("Series forecast", f"{now.shape[0]:,}"),
        Card("Rows published", f"{int(now['days'].sum()):,}"),
        Card("Model version", f"v{run_row.get('model_version', '?')}"),
        Card("Training", tags.get("training.decision", "n/a")),
        Card("Promotion", promotion, "ok" if promotion == "promoted" else ""),
        Card("Live RMSSE (28 d)", "n/a" if live is None else f"{float(live['rmsse']):.3f}"),
        Card("Live P10-P90 coverage", "n/a" if live is None else f"{float(live['coverage']):.3f}"),
    ]
    reasons = [
        ("Training", tags.get("training.reason", "n/a")),
        ("Promotion", tags.get("promotion.reason", "n/a")),
    ]
    if verdict:
        decayed = bool(verdict["decayed"])
        cards.append(Card("Decay", "DECAYED" if decayed else "none", "bad" if decayed else "ok"))
        reasons.append(("Monitoring", verdict["reason"]))
    return {"cards": cards, "reasons": reasons}


def _accuracy(engine: Any, run_day: date) -> dict[str, Any]:
    """The live accuracy section: the trend (plot and table) and today's breakdown."""
    trend = warehouse.accuracy_summary(engine, run_day)
    overall = trend.loc[trend["dimension"] == "all"].reset_index(drop=True)
    latest = trend.loc[pd.to_datetime(trend["monitor_date"]).dt.date == run_day]
    by_lag = latest.loc[latest["dimension"].isin(["lag", "category", "location"])]
    return {
        "overall": overall,
        "trend_plot": trend_plot(overall) if len(overall) else None,
        "accuracy_trend": table_of(
            overall.loc[:, _TREND_COLUMNS] if len(overall) else overall, "accuracy-trend", 3
        ),
        "accuracy_breakdown": table_of(
            by_lag.loc[:, _BREAKDOWN_COLUMNS] if len(by_lag) else by_lag, "accuracy-breakdown", 3
        ),
    }


def _unmet(engine: Any, run_day: date) -> dict[str, Any]:
    """The unmet-demand section: its table, and a note when there is no table to read."""
    found = warehouse.unmet_searches(engine, run_day, TOP_ROWS)
    note = "" if found is not None else "The warehouse has no search_demand table: no searches."
    frame = found if found is not None else pd.DataFrame(columns=["query"])
    if len(frame):
        frame = frame.loc[
            :,
            [
                "query",
                "searches",
                "sessions",
                "matching_products",
                "converted_sessions",
                "conversion",
                "why",
            ],
        ].rename(
            columns={
                "matching_products": "matching products",
                "converted_sessions": "sessions with a cart add",
            }
        )
    return {
        "unmet": table_of(frame, "unmet-table", 3),
        "unmet_note": note,
        "unmet_days": warehouse.UNMET_DAYS,
    }


def _plots(
    resources: Resources, run_day: date, previous_day: date | None, movers: pd.DataFrame
) -> list[Image]:
    """Forecast-vs-actual plots of the top :data:`PLOT_SERIES` movers."""
    engine = resources.warehouse
    top = movers.head(PLOT_SERIES)
    history = plot_history(resources.storage, run_day, top, PLOT_HISTORY)
    images = []
    for sku, location_id in zip(top["sku"], top["location_id"], strict=True):
        uid = f"{sku}@{location_id}"
        today = warehouse.series_forecast(engine, run_day, sku, location_id)
        before = (
            warehouse.series_forecast(engine, previous_day, sku, location_id)
            if previous_day is not None
            else None
        )
        images.append(forecast_plot(uid, history.loc[history["unique_id"] == uid], today, before))
    return images


def _page(run_day: date, resources: Resources, run: DateRun | None) -> str:
    """The report of a run date, its data gathered and rendered (see :func:`build_report`)."""
    engine = resources.warehouse
    now = warehouse.forecast_totals(engine, run_day)
    if now.empty:
        raise LookupError(f"nothing was published for {run_day}: no report")
    previous_day = warehouse.previous_run_day(engine, run_day)
    then = warehouse.forecast_totals(engine, previous_day) if previous_day else now.iloc[:0]
    movers = _movers(now, then)
    names = warehouse.product_names(engine)
    movers = movers.assign(
        why=_why(
            movers,
            warehouse.forecast_changes(engine, run_day),
            warehouse.forecast_drivers(engine, run_day),
            previous_day,
        )
    )
    suggestions = warehouse.order_suggestions(engine, run_day)
    accuracy = _accuracy(engine, run_day)
    wide_table, wide_title = warehouse.widest_uncertainty(engine, run_day, now, TOP_ROWS)
    headline = _headline(
        run_day,
        now,
        warehouse.forecast_run(engine, run_day),
        run.tags if run else {},
        accuracy.pop("overall"),
        monitor_verdict(resources.storage, run_day),
    )
    return render(
        "report.html.j2",
        run_day=run_day,
        first_target_day=run_day + timedelta(days=1),
        previous=previous_day or "the previous run",
        **headline,
        **accuracy,
        movers=table_of(
            _named(_movers_table(movers, run_day, previous_day), names), "movers-table"
        ),
        uncertainty_title=wide_title,
        uncertainty=table_of(_named(wide_table, names), "uncertainty-table"),
        replenishment_note=(
            "No replenishment_policy in the shop: no suggestions." if suggestions is None else ""
        ),
        replenishment=table_of(
            _named(
                (suggestions if suggestions is not None else pd.DataFrame()).head(TOP_ROWS),
                names,
            ),
            "replenishment-table",
        ),
        catalogue=table_of(_named(_catalogue(now, then), names), "catalogue-table"),
        launches=table_of(_named(launches(resources.storage, run_day), names), "launches-table"),
        **_unmet(engine, run_day),
        min_history_days=MIN_HISTORY_DAYS,
        horizon_days=int(now["days"].max()),
        validation=table_of(validation_findings(resources.storage, run_day), "validation-table", 0),
        plots=_plots(resources, run_day, previous_day, movers),
    )


def build_report(
    run_day: date, settings: Settings, storage: Storage, *, resources: Resources | None = None
) -> str:
    """The report of a run date as one HTML page (see the module docstring).

    Its training and promotion decisions come from the date's run
    (:func:`forecasting.registry.runs.date_run`: finished and complete).

    Args:
        run_day: The run date.
        settings: Where the warehouse, MLflow store and storage are.
        storage: The run's storage (its ``validate``, ``check``, ``features`` and
            ``monitor`` stages are read).
        resources: The task's resources (default: built from ``settings`` and ``storage``;
            when given, its ``storage``, ``warehouse`` and ``tracker`` are used).

    Raises:
        LookupError: If nothing was published for ``run_day``.
    """
    resources = resources or Resources.from_settings(settings, storage)
    return _page(run_day, resources, date_run_of(resources, run_day)[1])


def write_report(
    run_day: date, settings: Settings, storage: Storage, *, resources: Resources | None = None
) -> dict[str, Any]:
    """Build the report, write it to the run's ``report`` stage and log it to the date's
    MLflow run.

    Args:
        run_day: The run date.
        settings: Where the warehouse, MLflow store and storage are.
        storage: The run's storage; the report is written to its ``report`` stage.
        resources: The task's resources (default: built from ``settings`` and ``storage``;
            when given, its ``storage``, ``warehouse`` and ``tracker`` are used).

    Returns:
        ``uri`` of the report file and the MLflow ``run_id`` it was logged to ("" if the
        date has no finished, complete run).

    Raises:
        LookupError: If nothing was published for ``run_day``.
    """
    from forecasting.registry.runs import log_text_artifact

    resources = resources or Resources.from_settings(settings, storage)
    _, run = date_run_of(resources, run_day)
    page = _page(run_day, resources, run)
    with resources.storage.write_stage(run_day, "report") as folder:
        (folder / REPORT_ARTIFACT).write_text(page, encoding="utf-8")
    path = folder / REPORT_ARTIFACT
    run_id = run.run_id if run else ""
    if run_id:
        log_text_artifact(run_id, page, f"report/{REPORT_ARTIFACT}", resources.tracker)
    uri = resources.storage.uri(path)
    log.info("planner report for %s: %s (%d KB)", run_day, uri, len(page) // 1024)
    return {"uri": uri, "run_id": run_id}
