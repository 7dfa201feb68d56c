"""The monitoring stage: accuracy rows and the day's aggregates written to the warehouse in
one transaction, then the serving champion judged and tagged (see :mod:`forecasting.monitoring`).

The pipeline's ``monitor`` step loads its references (catalogue, panels) and calls
:func:`write_accuracy` and :func:`judge_champion`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from forecasting.config import MonitoringPolicy
from forecasting.db import dialect_of, retrying
from forecasting.features.panel import Panel
from forecasting.monitoring.accuracy import (
    ACCURACY_COLUMNS,
    DecayVerdict,
    accuracy_rows,
    judge_decay,
    lag_metrics_from_sums,
    panel_actuals,
    summarise_stats,
    target_window,
    unjoined_rows,
)

__all__ = ["AccuracyWritten", "judge_champion", "write_accuracy"]

log = logging.getLogger(__name__)

_ACTUAL_KEYS = ["target_date", "sku", "location_id", "actual"]


@dataclass(frozen=True)
class AccuracyWritten:
    """What :func:`write_accuracy` wrote.

    Attributes:
        rows: Accuracy rows written (target days joined whole).
        updated: Rows whose late actual changed.
        summary: The day's aggregates (``forecast_accuracy_summary`` rows).
        stats: Per series and run date statistics of the window (every version).
        live_days: Target days with actuals per model version, in the window.
        window: First and last target day of the window.
    """

    rows: int
    updated: int
    summary: pd.DataFrame
    stats: pd.DataFrame
    live_days: dict[str, int]
    window: tuple[date, date]


def _sql(name: str, warehouse: Engine) -> Any:
    import sqlalchemy as sa

    from forecasting.db import render_sql

    return sa.text(render_sql(f"monitoring/{name}", dialect_of(warehouse)))


def _target_days(warehouse: Engine, url: str, late: dict[str, str], last: date) -> list[date]:
    """Target days joined whole: today, and any day whose rows do not match what was
    published (a backfilled run date, a day monitoring did not run)."""
    from forecasting.db import read_frame

    counts = retrying(
        lambda: read_frame(warehouse, "monitoring/count_by_target", late), "count rows", url
    )
    return sorted(
        {last}
        | {
            pd.Timestamp(t).date()
            for t, published, written in counts.itertuples(index=False)
            if int(published) != int(written)
        }
    )


def _read_published(
    warehouse: Engine, url: str, whole: list[date], late_first: date, last: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The published forecasts of the days joined whole, and the actuals stored for the
    other late days."""
    from forecasting.db import read_frame

    def forecasts_for(day: date) -> pd.DataFrame:
        bounds = {"first_target": day.isoformat(), "last_target": day.isoformat()}
        return read_frame(warehouse, "monitoring/select_forecasts_for_targets", bounds)

    published = pd.concat(
        [retrying(partial(forecasts_for, d), "read published forecasts", url) for d in whole],
        ignore_index=True,
    )
    if late_first < last:
        bounds = {
            "first_target": late_first.isoformat(),
            "last_target": (last - timedelta(days=1)).isoformat(),
        }
        earlier = retrying(
            lambda: read_frame(warehouse, "monitoring/select_stored_actuals", bounds),
            "read stored actuals",
            url,
        )
    else:
        earlier = pd.DataFrame(columns=_ACTUAL_KEYS)
    earlier = earlier.loc[~pd.to_datetime(earlier["target_date"]).dt.date.isin(whole)]
    return published, earlier


def _join(
    published: pd.DataFrame,
    earlier: pd.DataFrame,
    panels: Iterable[Panel],
    categories: pd.Series,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accuracy rows of the published forecasts, and the stored actuals that changed."""
    parts, changed = [], []
    for panel in panels:
        parts.append(accuracy_rows(published, panel, categories))
        today, found = panel_actuals(earlier, panel)
        stored = earlier["actual"].to_numpy(float)
        moved = found & ~((today == stored) | (np.isnan(today) & np.isnan(stored)))
        changed.append(earlier.loc[moved].assign(actual=today[moved]))
    rows = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=list(ACCURACY_COLUMNS))
    )
    if len(published):
        extra = unjoined_rows(published, rows, categories)
        rows = pd.concat([f for f in (rows, extra) if len(f)] or [rows], ignore_index=True)
    updates = pd.concat(changed, ignore_index=True) if changed else earlier.iloc[:0]
    return rows, updates


def write_accuracy(
    run_day: date,
    warehouse: Engine,
    url: str,
    policy: MonitoringPolicy,
    panels: Iterable[Panel],
    categories: pd.Series,
    check_fence: Callable[[], None],
) -> AccuracyWritten:
    """Join published forecasts with the actuals that arrived; write ``forecast_accuracy``
    and the day's aggregates in one transaction (retried as a whole).

    Args:
        run_day: The run's day.
        warehouse: The warehouse's engine; ``url`` names it in errors.
        url: The warehouse's URL (for messages).
        policy: Late days and the window of the aggregates.
        panels: Today's panel of every shard with series (read one at a time).
        categories: Category per SKU (index: sku).
        check_fence: Raises if the run lost its date's lease (checked before writing).
    """
    from forecasting.publishing import ensure_forecast_tables

    retrying(lambda: ensure_forecast_tables(warehouse), "create forecast tables", url)
    late_first, last = target_window(run_day, policy.late_days)
    window_first, _ = target_window(run_day, policy.window_days)
    late = {"first_target": late_first.isoformat(), "last_target": last.isoformat()}
    whole = _target_days(warehouse, url, late, last)
    published, earlier = _read_published(warehouse, url, whole, late_first, last)
    rows, updates = _join(published, earlier, panels, categories)
    window = {"first_target": window_first.isoformat(), "last_target": last.isoformat()}
    aggregates: dict[str, Any] = {}

    def transaction() -> None:
        with warehouse.begin() as conn:
            _write_rows(conn, warehouse, whole, rows, updates)
            aggregates.update(_write_summary(conn, warehouse, window, run_day, window_first))

    check_fence()
    retrying(transaction, "write accuracy", url)
    summary = aggregates["summary"]
    log.info(
        "monitoring: %d rows joined (target days %s), %d late actuals updated, %d summary rows",
        len(rows),
        ", ".join(d.isoformat() for d in whole),
        len(updates),
        len(summary),
    )
    days = aggregates["select_live_days"].itertuples(index=False)
    return AccuracyWritten(
        rows=len(rows),
        updated=len(updates),
        summary=summary,
        stats=aggregates["select_accuracy_stats"],
        live_days={str(v): int(n) for v, n in days},
        window=(window_first, last),
    )


def _write_rows(
    conn: Any, warehouse: Engine, whole: list[date], rows: pd.DataFrame, updates: pd.DataFrame
) -> None:
    """Rewrite the target days joined whole; update the late actuals that changed."""
    from forecasting.db import insert_frame

    delete = _sql("delete_accuracy", warehouse)
    for d in whole:
        conn.execute(delete, {"first_target": d.isoformat(), "last_target": d.isoformat()})
    insert_frame(conn, "monitoring/insert_accuracy", rows)
    update_records = _records(updates.loc[:, _ACTUAL_KEYS])
    if update_records:
        conn.execute(_sql("update_actual", warehouse), update_records)


def _write_summary(
    conn: Any, warehouse: Engine, window: dict[str, str], run_day: date, window_first: date
) -> dict[str, Any]:
    """The window's aggregates, computed by the warehouse over what was just written, and
    the day's summary rows replaced."""
    aggregates: dict[str, Any] = {}
    for name in ("select_accuracy_stats", "select_accuracy_by_lag", "select_live_days"):
        aggregates[name] = pd.read_sql(_sql(name, warehouse), conn, params=window)
    stats = aggregates["select_accuracy_stats"].astype({"model_version": str})
    aggregates["select_accuracy_stats"] = stats
    summary = summarise_stats(
        stats,
        lag_metrics_from_sums(aggregates["select_accuracy_by_lag"]),
        run_day,
        window_first,
    )
    aggregates["summary"] = summary
    conn.execute(_sql("delete_accuracy_summary", warehouse), {"monitor_date": run_day.isoformat()})
    if len(summary):
        conn.execute(_sql("insert_accuracy_summary", warehouse), _records(summary))
    return aggregates


def judge_champion(
    run_day: date,
    written: AccuracyWritten,
    policy: MonitoringPolicy,
    model_name: str,
    monitoring_experiment: Callable[[], str],
) -> DecayVerdict | None:
    """Judge the serving champion's decay on the window, tag its version with the verdict
    and log its live metrics to the monitoring experiment.

    Args:
        run_day: The run's day.
        written: What :func:`write_accuracy` wrote.
        policy: The decay rule's tolerance, coverage band and minimum live days.
        model_name: The registered model.
        monitoring_experiment: Points MLflow at the monitoring experiment; returns its id.

    Returns:
        The verdict, ``None`` without a champion or without accuracy rows.
    """
    from forecasting.registry.models import get_champion, set_version_tags
    from forecasting.registry.runs import log_live_metrics
    from forecasting.training.cadence import DECAY_TAG

    champion = get_champion(model_name)
    if champion is None or not len(written.stats):
        return None
    verdict = judge_decay(
        written.stats,
        written.live_days.get(str(champion.version), 0),
        champion.version,
        champion.backtest.get("rmsse"),
        policy,
    )
    tags = {
        "monitoring.checked_on": run_day.isoformat(),
        "monitoring.live_days": str(verdict.live_days),
        "monitoring.verdict": verdict.reason,
    }
    if verdict.decayed:
        tags[DECAY_TAG] = "true"
        log.warning("DECAY: %s; the next run retrains", verdict.reason)
    else:
        log.info("monitoring: %s", verdict.reason)
    set_version_tags(model_name, champion.version, tags)
    if verdict.live_days:
        log_live_metrics(
            monitoring_experiment(),
            model_name,
            champion.version,
            run_day,
            verdict.live,
            champion.backtest,
        )
    return verdict


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts for executemany: dates as ISO strings, NaN as NULL."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, (date, pd.Timestamp)):
                clean[key] = pd.Timestamp(value).date().isoformat()
            elif isinstance(value, (float, np.floating)):
                clean[key] = None if not np.isfinite(value) else float(value)
            elif isinstance(value, np.integer):
                clean[key] = int(value)
            else:
                clean[key] = value
        out.append(clean)
    return out
