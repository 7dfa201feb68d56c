"""Live accuracy: how a published model version did on the actuals that arrived since.

The promotion rule compares a candidate with the *serving* version, not with its
configuration refitted: its recorded backtest, and -- once enough actuals arrived -- its
live accuracy, scored exactly like a backtest. Each weekly origin since the version was
promoted (the promotion day, then every 7 days, at most the last 84 days) is a "window":
the forecasts published on that run date for the days up to today, against the actuals
of today's extract, with each series' scale from its history up to that origin.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.db import dialect_of, render_sql
from forecasting.evaluation.metrics import series_scales, series_window_stats
from forecasting.features.panel import Panel

__all__ = ["LIVE_DAYS", "live_stats"]

log = logging.getLogger(__name__)

#: Run dates older than this many days are left out of live accuracy.
LIVE_DAYS = 84
_ORIGIN_STEP = 7
#: The columns :func:`series_window_stats` reads.
_STATS_INPUT_COLUMNS = (
    "unique_id",
    "window",
    "y",
    "forecast",
    "p10",
    "p50",
    "p90",
    "mae1",
    "mse1",
    "mae7",
)


def _origins(promoted_on: date, run_day: date) -> list[date]:
    first = max(promoted_on, run_day - timedelta(days=LIVE_DAYS))
    first = promoted_on + timedelta(days=_ORIGIN_STEP * -(-(first - promoted_on).days // 7))
    out = []
    day = first
    while day < run_day:
        out.append(day)
        day += timedelta(days=_ORIGIN_STEP)
    return out


def live_stats(
    engine: Engine,
    model_name: str,
    version: str,
    promoted_on: date,
    run_day: date,
    panel: Panel,
) -> tuple[pd.DataFrame, int]:
    """Per series and origin statistics of a version's published forecasts.

    Args:
        engine: The warehouse the forecasts were published to.
        model_name: Registered model name (``demand_forecast.model_name``).
        version: The version.
        promoted_on: The run day it became champion.
        run_day: Today's run day (the last day with actuals).
        panel: Today's panel (actuals and history) of the series to score.

    Returns:
        :func:`series_window_stats` rows (``window`` = the origin's day index in the
        panel) and the number of distinct target days with actuals.
    """
    origins = _origins(promoted_on, run_day)
    if not origins or panel.n_series == 0:
        return _empty_stats(), 0
    published = _published(engine, model_name, version, origins, run_day, panel)
    if published.empty:
        return _empty_stats(), 0
    frame = _with_scales(_on_panel(published, panel), panel)
    stats = series_window_stats(frame)
    days = int(frame.loc[frame["y"].notna(), "_target"].nunique())
    log.info(
        "live accuracy of v%s: %d forecast rows from %d origins over %d target days",
        version,
        len(frame),
        len(origins),
        days,
    )
    return stats, days


def _empty_stats() -> pd.DataFrame:
    """:func:`series_window_stats` of no forecasts."""
    return series_window_stats(pd.DataFrame(columns=list(_STATS_INPUT_COLUMNS)))


def _published(
    engine: Engine,
    model_name: str,
    version: str,
    origins: list[date],
    run_day: date,
    panel: Panel,
) -> pd.DataFrame:
    """The version's forecasts published on ``origins`` for the panel's SKUs, up to ``run_day``."""
    skus = sorted(panel.ids["sku"].astype(str).unique())
    sql = sa.text(render_sql("publish/select_version_forecasts", dialect_of(engine))).bindparams(
        sa.bindparam("skus", expanding=True), sa.bindparam("run_dates", expanding=True)
    )
    params = {
        "model_name": model_name,
        "model_version": version,
        "run_dates": [d.isoformat() for d in origins],
        "last_target": run_day.isoformat(),
        "skus": skus,
    }
    with engine.connect() as conn:
        return pd.read_sql(sql, conn, params=params)


def _on_panel(published: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """Published rows placed on the panel: series row, target and origin day, actual ``y``.

    Rows whose series, target or origin is not in the panel, or whose target is not a
    history day, are left out.
    """
    published["unique_id"] = published["sku"] + "@" + published["location_id"]
    day_index = pd.Index(panel.dates)
    rows = pd.Index(panel.ids["unique_id"]).get_indexer(published["unique_id"])
    targets = day_index.get_indexer(pd.to_datetime(published["target_date"]))
    origin_idx = day_index.get_indexer(pd.to_datetime(published["run_date"]))
    keep = (rows >= 0) & (targets >= 0) & (origin_idx >= 0) & (targets < panel.n_history)
    placed = published.loc[keep].assign(
        _row=rows[keep], _target=targets[keep], window=origin_idx[keep]
    )
    placed["y"] = panel.y[placed["_row"], placed["_target"]]
    return placed


def _with_scales(placed: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """Each row with its series' scales from the history up to its origin."""
    parts = []
    for origin, part in placed.groupby("window"):
        scales = series_scales(panel.y, int(origin))
        parts.append(
            part.assign(
                mae1=scales["mae1"].to_numpy()[part["_row"]],
                mse1=scales["mse1"].to_numpy()[part["_row"]],
                mae7=scales["mae7"].to_numpy()[part["_row"]],
            )
        )
    return pd.concat(parts, ignore_index=True)
