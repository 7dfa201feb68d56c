"""The planner report: one self-contained HTML page per run date.

Written by the DAG's ``report`` task (and ``forecasting report --date D``) to the run's
``report`` stage next to its partitions (``<storage>/ds=D/report/report.html``) and as
the artifact ``report/report.html`` of the date's MLflow run. It needs no network to
open: plots are PNG images (matplotlib) embedded as data URIs, the table sorting is a few
lines of inline JavaScript, there is no external stylesheet or font.

Sections: headline numbers (series, rows, model version, training and promotion decision,
live accuracy and its trend), week-over-week changes (the series whose 28-day forecast
moved most since the run a week earlier), the widest uncertainty (P10-P90 width over the
28 days relative to the P50), new and stopped series, validation findings, and
forecast-vs-actual plots of the top movers. Every table sorts by a click on its header.
"""

from __future__ import annotations

import base64
import html
import io
import logging
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecasting.config import EXPERIMENT_NAME, Settings
from forecasting.db import make_engine, read_frame
from forecasting.reporting.summary import committed_shards, validation_reports
from forecasting.storage import Storage, read_json

__all__ = ["REPORT_ARTIFACT", "REPORT_SECTIONS", "build_report", "write_report"]

log = logging.getLogger(__name__)

#: Where the report goes in the date's MLflow run and in the run's ``report`` stage.
REPORT_ARTIFACT = "report.html"
#: Section ids, in page order (the browser test checks each renders).
REPORT_SECTIONS = (
    "headline",
    "accuracy",
    "movers",
    "uncertainty",
    "catalogue",
    "validation",
    "plots",
)
#: Rows shown in the movers and uncertainty tables.
TOP_ROWS = 20
#: Series drawn in the forecast-vs-actual plots.
PLOT_SERIES = 4
#: Days of actuals before the forecast in the plots.
PLOT_HISTORY = 56

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2430}
h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:28px;border-bottom:1px solid #dde}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #dde;border-radius:6px;
padding:8px 12px;min-width:140px}.card b{display:block;font-size:18px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{padding:3px 8px;
border-bottom:1px solid #eef;text-align:right}th{cursor:pointer;background:#f4f6fa;user-select:none;text-align:left}
td:first-child,th:first-child,td.t{text-align:left}.bad{color:#b00020}.ok{color:#0a7d32}
img{max-width:100%;border:1px solid #eef}.muted{color:#667}
"""

_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute("data-dir") !== "asc";
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-v") || a.cells[col].textContent;
        var y = b.cells[col].getAttribute("data-v") || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
      th.setAttribute("data-dir", asc ? "asc" : "desc");
    });
  });
});
document.body.setAttribute("data-ready", "true");
console.info("planner report ready");
"""


def _table(frame: pd.DataFrame, table_id: str, digits: int = 2) -> str:
    """A sortable HTML table (numbers keep their exact value in ``data-v``)."""
    if frame.empty:
        return f'<p class="muted" id="{table_id}">None.</p>'
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for value in row:
            if isinstance(value, (int, np.integer)):
                cells.append(f'<td data-v="{int(value)}">{int(value):,}</td>')
            elif isinstance(value, (float, np.floating)):
                text = "" if not np.isfinite(value) else f"{value:,.{digits}f}"
                cells.append(f'<td data-v="{value if np.isfinite(value) else ""}">{text}</td>')
            else:
                # Shop text (SKUs, locations) as text: escaped, and isolated from the
                # surrounding direction (right-to-left names stay in their cell).
                cells.append(f'<td class="t" dir="auto">{html.escape(str(value))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _totals(engine: Any, run_day: date) -> pd.DataFrame:
    """A run date's forecasts summed per series (the warehouse adds them up)."""
    frame = read_frame(engine, "report/select_forecast_totals", {"run_date": run_day.isoformat()})
    return frame.astype({c: float for c in ("forecast", "p10", "p50", "p90")})


def _series_forecast(engine: Any, run_day: date, sku: str, location_id: str) -> pd.DataFrame:
    """One series' daily forecasts of a run date (for its plot)."""
    params = {"run_date": run_day.isoformat(), "sku": sku, "location_id": location_id}
    frame = read_frame(engine, "report/select_series_forecast", params)
    frame["target_date"] = pd.to_datetime(frame["target_date"])
    return frame


def _previous_run_day(engine: Any, run_day: date) -> date | None:
    """The run a week earlier, else the latest earlier one."""
    runs = read_frame(engine, "report/select_run_dates", {"run_date": run_day.isoformat()})
    days = sorted(pd.to_datetime(runs["run_date"]).dt.date) if len(runs) else []
    week = run_day - timedelta(days=7)
    if week in days:
        return week
    return days[-1] if days else None


def _uncertainty(engine: Any, run_day: date, daily: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The series with the widest uncertainty of their total demand over the longest lead
    time (``demand_forecast_leadtime``; sums of daily quantiles only for a version
    without lead-time quantiles, and said so)."""
    from forecasting.publishing import read_leadtime

    lead = read_leadtime(engine, run_day)
    if len(lead):
        days = int(lead["days"].max())
        part = lead.loc[(lead["days"] == days) & (lead["p50"] >= 1)].copy()
        part["relative"] = (part["p90"] - part["p50"]) / part["p50"]
        table = part.sort_values("relative", ascending=False).head(TOP_ROWS)
        table = table.loc[:, ["sku", "location_id", "p50", "p90", "p99", "relative"]].rename(
            columns={
                "p50": f"P50 ({days}-day total)",
                "p90": f"P90 ({days}-day total)",
                "p99": f"P99 ({days}-day total)",
                "relative": "(P90-P50)/P50",
            }
        )
        return table, f"Widest uncertainty of the {days}-day total (median of at least 1 unit)"
    wide = daily.assign(
        relative=(daily["p90"] - daily["p10"]) / daily["p50"].where(daily["p50"] > 0)
    )
    wide = wide.loc[wide["p50"] >= 1].sort_values("relative", ascending=False).head(TOP_ROWS)
    table = wide.loc[:, ["sku", "location_id", "p10", "p50", "p90", "relative"]].rename(
        columns={"relative": "(P90-P10)/P50 of daily sums"}
    )
    return table, "Widest uncertainty (sums of daily quantiles: no lead-time quantiles)"


def _date_run_tags(settings: Settings, run_day: date) -> dict[str, str]:
    """Tags of the date's newest MLflow run (training and promotion decision)."""
    import mlflow

    from forecasting.registry.tracking import configure_mlflow

    experiment = configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    runs = mlflow.MlflowClient().search_runs(
        [experiment],
        f"tags.logical_date = '{run_day.isoformat()}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not runs:
        return {}
    return {"run_id": runs[0].info.run_id, **runs[0].data.tags}


def _validation(storage: Storage, run_day: date) -> pd.DataFrame:
    rows = [
        {
            "rule": f["expectation"],
            "table": str(f.get("table", "")),
            "result": "passed"
            if f["success"]
            else ("FAILED" if f.get("blocking", True) else "warning"),
            "unexpected": int(f.get("unexpected_count") or 0),
        }
        for r in validation_reports(storage, run_day)
        for f in r["findings"]
    ]
    frame = pd.DataFrame(rows, columns=["rule", "table", "result", "unexpected"])
    if frame.empty:
        return frame
    return (
        frame.groupby(["rule", "table", "result"], as_index=False)["unexpected"]
        .sum()
        .sort_values(
            ["result", "rule"],
            key=lambda s: s.map({"FAILED": 0, "warning": 1}).fillna(2) if s.name == "result" else s,
        )
        .reset_index(drop=True)
    )


def _history(storage: Storage, run_day: date, keys: pd.DataFrame) -> pd.DataFrame:
    """Actuals of the last :data:`PLOT_HISTORY` days of the given series (from the run's
    features partitions)."""
    import tempfile
    from pathlib import Path

    from forecasting.features import Panel
    from forecasting.storage import download_dir

    wanted = set(keys["sku"] + "@" + keys["location_id"])
    parts = []
    for committed in committed_shards(storage, run_day, "features"):
        if not (committed / "panel").exists():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            panel = Panel.load(download_dir(committed / "panel", Path(tmp) / "panel"))
        rows = np.flatnonzero(panel.ids["unique_id"].isin(wanted).to_numpy())
        if not len(rows):
            continue
        first = max(panel.n_history - PLOT_HISTORY, 0)
        days = panel.dates[first : panel.n_history]
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": np.repeat(panel.ids["unique_id"].to_numpy()[rows], len(days)),
                    "ds": np.tile(days.to_numpy(), len(rows)),
                    "y": panel.y[rows, first : panel.n_history].ravel(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["unique_id", "ds", "y"])
    return pd.concat(parts, ignore_index=True)


def _plots(
    movers: pd.DataFrame,
    engine: Any,
    run_day: date,
    previous_day: date | None,
    history: pd.DataFrame,
) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = []
    for _, mover in movers.head(PLOT_SERIES).iterrows():
        uid = f"{mover['sku']}@{mover['location_id']}"
        fc = _series_forecast(engine, run_day, mover["sku"], mover["location_id"])
        fig, ax = plt.subplots(figsize=(8, 2.6))
        past = history.loc[history["unique_id"] == uid]
        ax.plot(past["ds"], past["y"], color="#1d2430", lw=1.2, label="actual")
        ax.fill_between(
            fc["target_date"], fc["p10"], fc["p90"], color="#4c78a8", alpha=0.25, label="P10-P90"
        )
        ax.plot(fc["target_date"], fc["p50"], color="#4c78a8", lw=1.5, label="P50 today")
        if previous_day is not None:
            old = _series_forecast(engine, previous_day, mover["sku"], mover["location_id"])
            ax.plot(
                old["target_date"], old["p50"], color="#e45756", lw=1.2, ls="--", label="P50 before"
            )
        ax.set_title(uid, fontsize=10, parse_math=False)  # the shop's ids, never $math$
        ax.legend(fontsize=7, loc="upper left")
        ax.tick_params(labelsize=7)
        images.append(f'<img alt="forecast vs actual {html.escape(uid)}" src="{_png(fig)}">')
    return images


def _trend_plot(trend: pd.DataFrame) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(10, 2.4))
    days = pd.to_datetime(trend["monitor_date"])
    for ax, metric in zip(axes, ("rmsse", "wape", "coverage"), strict=True):
        ax.plot(days, trend[metric].astype(float), marker="o", ms=3)
        ax.set_title(f"live {metric}", fontsize=9)
        ax.tick_params(labelsize=7, axis="both")
        ax.tick_params(axis="x", rotation=30)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    if len(trend):
        axes[2].axhline(0.8, color="#999", lw=0.8, ls="--")
    return f'<img alt="live accuracy trend" src="{_png(fig)}">'


def build_report(run_day: date, settings: Settings, storage: Storage) -> str:
    """The report of a run date as one HTML string (see the module docstring).

    Raises:
        LookupError: If nothing was published for ``run_day``.
    """
    engine = make_engine(settings.warehouse_url)
    now = _totals(engine, run_day)
    if now.empty:
        raise LookupError(f"nothing was published for {run_day}: no report")
    run = read_frame(engine, "publish/select_forecast_run", {"run_date": run_day.isoformat()})
    run_row = run.iloc[0].to_dict() if len(run) else {}
    previous_day = _previous_run_day(engine, run_day)
    then = _totals(engine, previous_day) if previous_day else now.iloc[:0]
    tags = _date_run_tags(settings, run_day)

    both = now.merge(then, on=["sku", "location_id"], how="inner", suffixes=("", "_before"))
    both["change"] = both["forecast"] - both["forecast_before"]
    both["change_pct"] = (
        100 * both["change"] / both["forecast_before"].where(both["forecast_before"] > 0)
    )
    movers = both.reindex(both["change"].abs().sort_values(ascending=False).index).head(TOP_ROWS)
    movers_table = movers.loc[
        :, ["sku", "location_id", "forecast_before", "forecast", "change", "change_pct"]
    ].rename(
        columns={
            "forecast_before": f"28-day total ({previous_day})",
            "forecast": f"28-day total ({run_day})",
            "change_pct": "change %",
        }
    )
    wide_table, wide_title = _uncertainty(engine, run_day, now)
    keys_now = set(zip(now["sku"], now["location_id"], strict=True))
    keys_then = set(zip(then["sku"], then["location_id"], strict=True))
    changes = pd.DataFrame(
        [{"sku": s, "location_id": loc, "status": "new"} for s, loc in sorted(keys_now - keys_then)]
        + [
            {"sku": s, "location_id": loc, "status": "stopped"}
            for s, loc in sorted(keys_then - keys_now)
        ]
        if len(then)
        else [],
        columns=["sku", "location_id", "status"],
    )
    trend = read_frame(
        engine,
        "monitoring/select_accuracy_summary",
        {"first_day": (run_day - timedelta(days=90)).isoformat(), "last_day": run_day.isoformat()},
    )
    overall = trend.loc[trend["dimension"] == "all"].reset_index(drop=True)
    latest = trend.loc[pd.to_datetime(trend["monitor_date"]).dt.date == run_day]
    by_lag = latest.loc[latest["dimension"].isin(["lag", "category", "location"])]
    verdict = None
    monitor = storage.committed(run_day, "monitor")
    if monitor is not None and (monitor / "verdict.json").exists():
        verdict = read_json(monitor / "verdict.json")
    validation = _validation(storage, run_day)
    history = _history(storage, run_day, movers.head(PLOT_SERIES))
    plots = _plots(movers, engine, run_day, previous_day, history)

    def card(label: str, value: Any, css: str = "") -> str:
        return (
            f'<div class="card"><span class="muted">{html.escape(label)}</span>'
            f'<b class="{css}">{html.escape(str(value))}</b></div>'
        )

    live = overall.iloc[-1] if len(overall) else None
    cards = [
        card("Run date", run_day),
        card("Series forecast", f"{now.shape[0]:,}"),
        card("Rows published", f"{int(now['days'].sum()):,}"),
        card("Model version", f"v{run_row.get('model_version', '?')}"),
        card("Training", tags.get("training.decision", "n/a")),
        card(
            "Promotion",
            tags.get("promotion.decision", "n/a"),
            "ok" if tags.get("promotion.decision") == "promoted" else "",
        ),
        card("Live RMSSE (28 d)", "n/a" if live is None else f"{float(live['rmsse']):.3f}"),
        card("Live P10-P90 coverage", "n/a" if live is None else f"{float(live['coverage']):.3f}"),
    ]
    if verdict:
        cards.append(
            card(
                "Decay",
                "DECAYED" if verdict["decayed"] else "none",
                "bad" if verdict["decayed"] else "ok",
            )
        )
    reasons = [
        f"<li>Training: {html.escape(tags.get('training.reason', 'n/a'))}</li>",
        f"<li>Promotion: {html.escape(tags.get('promotion.reason', 'n/a'))}</li>",
    ]
    if verdict:
        reasons.append(f"<li>Monitoring: {html.escape(verdict['reason'])}</li>")
    accuracy_html = (
        (_trend_plot(overall) if len(overall) else "")
        + _table(
            overall.loc[
                :,
                ["monitor_date", "n_rows", "wape", "bias", "rmsse", "mase", "pinball", "coverage"],
            ]
            if len(overall)
            else overall,
            "accuracy-trend",
            3,
        )
        + "<h3>Today, by lag, category and location</h3>"
        + _table(
            by_lag.loc[
                :, ["dimension", "value", "n_rows", "wape", "bias", "rmsse", "pinball", "coverage"]
            ]
            if len(by_lag)
            else by_lag,
            "accuracy-breakdown",
            3,
        )
    )
    sections = {
        "headline": (
            "Headline",
            f'<div class="cards">{"".join(cards)}</div><ul>{"".join(reasons)}</ul>',
        ),
        "accuracy": ("Live accuracy against actuals (last 28 target days)", accuracy_html),
        "movers": (
            f"Biggest changes in the 28-day forecast since {previous_day or 'the previous run'}",
            _table(movers_table, "movers-table"),
        ),
        "uncertainty": (wide_title, _table(wide_table, "uncertainty-table")),
        "catalogue": (
            f"New and stopped series since {previous_day or 'the previous run'}",
            _table(changes, "catalogue-table"),
        ),
        "validation": ("Validation findings", _table(validation, "validation-table", 0)),
        "plots": (
            "Forecast vs actual, top movers",
            "".join(plots) or '<p class="muted">No series to draw.</p>',
        ),
    }
    body = "".join(
        f'<section id="{sid}"><h2>{html.escape(title)}</h2>{content}</section>'
        for sid, (title, content) in sections.items()
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Demand forecast report {run_day}</title><style>{_STYLE}</style></head>"
        f"<body><h1>Demand forecast report: {run_day}</h1>"
        f'<p class="muted">Forecasts for {run_day + timedelta(days=1)} onwards. Tables sort '
        "by a click on a header.</p>"
        f"{body}<script>{_SCRIPT}</script></body></html>"
    )


def write_report(run_day: date, settings: Settings, storage: Storage) -> dict[str, Any]:
    """Build the report, write it to the run's ``report`` stage and log it to the date's
    MLflow run.

    Returns:
        ``uri`` of the report file and the MLflow ``run_id`` it was logged to ("" if the
        date has no run).
    """
    import tempfile
    from pathlib import Path

    import mlflow

    page = build_report(run_day, settings, storage)
    with storage.write_stage(run_day, "report") as folder:
        (folder / REPORT_ARTIFACT).write_text(page, encoding="utf-8")
    path = folder / REPORT_ARTIFACT
    run_id = _date_run_tags(settings, run_day).get("run_id", "")
    if run_id:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / REPORT_ARTIFACT
            local.write_text(page, encoding="utf-8")
            mlflow.MlflowClient().log_artifact(run_id, str(local), "report")
    log.info("planner report for %s: %s (%d KB)", run_day, storage.uri(path), len(page) // 1024)
    return {"uri": storage.uri(path), "run_id": run_id}
