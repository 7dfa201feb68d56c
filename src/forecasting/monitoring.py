"""Accuracy against actuals: every published forecast, once its target day has ended.

Each run date's published forecasts are an as-of snapshot. On run day *D*, monitoring
joins every forecast whose target day lies in ``D - late_days + 1 .. D`` (whatever day it
was made on) with the actuals of today's extract and rewrites those rows of
``forecast_accuracy``: a target day's rows are replaced as long as its actuals may still
be corrected, so late actuals update the rows they touch and a re-run of a date writes
the same rows. Days excluded from training (outliers, stock-outs) have no actual and are
left out of every metric.

From the rows of the last ``window_days`` target days it writes the day's aggregates to
``forecast_accuracy_summary`` (whole catalogue, by lag, category and location): WAPE,
bias, RMSSE, MASE, scaled pinball and P10-P90 coverage, with the conventions of
:mod:`forecasting.evaluation.metrics` (a "window" there is a run date here).

**Decay.** The serving champion has decayed when, over at least ``min_live_days`` target
days of its own forecasts, its live RMSSE exceeds its backtest RMSSE by more than
``rmsse_tolerance``, or its P10-P90 coverage leaves ``[coverage_low, coverage_high]``
(:class:`~forecasting.config.MonitoringPolicy`). Monitoring then tags the version
``monitoring.decay = true`` with the reason; the training cadence
(:mod:`forecasting.training.cadence`) retrains on the next run whatever the champion's
age, and a new champion starts without the tag.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecasting.config import MonitoringPolicy
from forecasting.evaluation.metrics import metrics_from_stats, series_scales, series_window_stats
from forecasting.features.panel import Panel

__all__ = [
    "ACCURACY_COLUMNS",
    "DecayVerdict",
    "accuracy_rows",
    "judge_decay",
    "summarise_accuracy",
    "target_window",
]

log = logging.getLogger(__name__)

#: Columns of ``forecast_accuracy``, in table order.
ACCURACY_COLUMNS = (
    "run_date",
    "target_date",
    "lag_days",
    "sku",
    "location_id",
    "category",
    "actual",
    "forecast",
    "p10",
    "p50",
    "p90",
    "scale_mae1",
    "scale_mse1",
    "scale_mae7",
    "model_version",
)
#: Metrics of ``forecast_accuracy_summary`` (names of :func:`metrics_from_stats`).
SUMMARY_METRICS = {
    "wape": "wape",
    "bias": "bias",
    "rmsse": "rmsse",
    "mase": "mase",
    "pinball": "spl",
    "coverage": "coverage",
}
#: Summary dimensions and the accuracy column each groups by (``None``: everything).
DIMENSIONS = {"all": None, "lag": "lag_days", "category": "category", "location": "location_id"}


def accuracy_rows(published: pd.DataFrame, panel: Panel, categories: pd.Series) -> pd.DataFrame:
    """Published forecasts joined with the panel's actuals and each series' scales.

    Args:
        published: ``demand_forecast`` rows (``run_date, sku, location_id, target_date,
            forecast, p10, p50, p90, model_version``).
        panel: Today's panel of the series (actuals; NaN on excluded days).
        categories: Category per SKU (index: sku).

    Returns:
        :data:`ACCURACY_COLUMNS` rows for forecasts of series in the panel whose target day
        is in its history; ``actual`` is NaN on days excluded from accuracy.
    """
    if published.empty or panel.n_series == 0:
        return pd.DataFrame(columns=list(ACCURACY_COLUMNS))
    frame = published.assign(unique_id=published["sku"] + "@" + published["location_id"])
    day_index = pd.Index(panel.dates)
    rows = pd.Index(panel.ids["unique_id"]).get_indexer(frame["unique_id"])
    targets = day_index.get_indexer(pd.to_datetime(frame["target_date"]))
    origins = day_index.get_indexer(pd.to_datetime(frame["run_date"]))
    keep = (rows >= 0) & (targets >= 0) & (targets < panel.n_history) & (origins >= 0)
    frame = frame.loc[keep].assign(_row=rows[keep], _target=targets[keep], _origin=origins[keep])
    frame["actual"] = panel.y[frame["_row"].to_numpy(), frame["_target"].to_numpy()]
    for column in ("scale_mae1", "scale_mse1", "scale_mae7"):
        frame[column] = np.nan
    for origin, idx in frame.groupby("_origin").groups.items():
        scales = series_scales(panel.y, int(origin))
        at = frame.loc[idx, "_row"].to_numpy()
        for short in ("mae1", "mse1", "mae7"):
            frame.loc[idx, f"scale_{short}"] = scales[short].to_numpy()[at]
    frame["lag_days"] = frame["_target"] - frame["_origin"]
    frame["category"] = frame["sku"].map(categories).fillna("unknown").astype(str)
    frame["run_date"] = pd.to_datetime(frame["run_date"]).dt.date
    frame["target_date"] = pd.to_datetime(frame["target_date"]).dt.date
    return frame.loc[:, list(ACCURACY_COLUMNS)].reset_index(drop=True)


def _stats(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`series_window_stats` of accuracy rows (a window is a run date)."""
    frame = pd.DataFrame(
        {
            "unique_id": rows["sku"].astype(str) + "@" + rows["location_id"].astype(str),
            "window": pd.to_datetime(rows["run_date"]).map(pd.Timestamp.toordinal),
            "y": rows["actual"].astype(float),
            "forecast": rows["forecast"].astype(float),
            "p10": rows["p10"].astype(float),
            "p50": rows["p50"].astype(float),
            "p90": rows["p90"].astype(float),
            "mae1": rows["scale_mae1"].astype(float),
            "mse1": rows["scale_mse1"].astype(float),
            "mae7": rows["scale_mae7"].astype(float),
        }
    )
    return series_window_stats(frame.loc[frame["y"].notna()])


def _metrics(rows: pd.DataFrame) -> dict[str, float]:
    known = rows.loc[rows["actual"].notna()]
    if known.empty:
        return {name: float("nan") for name in SUMMARY_METRICS}
    values = metrics_from_stats(_stats(known))
    return {name: float(values[source]) for name, source in SUMMARY_METRICS.items()}


def summarise_accuracy(rows: pd.DataFrame, monitor_date: date, window_start: date) -> pd.DataFrame:
    """The day's aggregates for ``forecast_accuracy_summary``.

    Args:
        rows: Accuracy rows of target days ``window_start .. monitor_date``.
        monitor_date: The run's day.
        window_start: First target day of the window.

    Returns:
        One row per dimension value: ``monitor_date, dimension, value, window_start,
        n_rows`` and the metrics of :data:`SUMMARY_METRICS` (NaN where undefined, e.g.
        WAPE of a group that sold nothing).
    """
    out = []
    for dimension, column in DIMENSIONS.items():
        groups = [("all", rows)] if column is None else list(rows.groupby(column, sort=True))
        for value, part in groups:
            known = part.loc[part["actual"].notna()]
            if known.empty:
                continue
            out.append(
                {
                    "monitor_date": monitor_date,
                    "dimension": dimension,
                    "value": str(value),
                    "window_start": window_start,
                    "n_rows": len(known),
                    **_metrics(known),
                }
            )
    columns = ["monitor_date", "dimension", "value", "window_start", "n_rows", *SUMMARY_METRICS]
    return pd.DataFrame(out, columns=columns)


@dataclass(frozen=True)
class DecayVerdict:
    """Whether the serving champion's live accuracy decayed.

    Attributes:
        version: The champion version judged.
        decayed: The live accuracy broke the policy.
        reason: Why (or why not, or why no verdict), in one sentence.
        live_days: Target days with actuals of its forecasts in the window.
        live: Its live metrics (:data:`SUMMARY_METRICS`).
        backtest_rmsse: What its backtest promised.
    """

    version: str
    decayed: bool
    reason: str
    live_days: int
    live: dict[str, float]
    backtest_rmsse: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def judge_decay(
    rows: pd.DataFrame, version: str, backtest_rmsse: float | None, policy: MonitoringPolicy
) -> DecayVerdict:
    """Apply the decay rule (module docstring) to the champion's rows of the window."""
    own = rows.loc[(rows["model_version"].astype(str) == str(version)) & rows["actual"].notna()]
    days = int(own["target_date"].nunique())
    live = _metrics(own)
    if days < policy.min_live_days:
        reason = (
            f"v{version} has {days} target day(s) of actuals in the window, fewer than "
            f"{policy.min_live_days}: no verdict yet"
        )
        return DecayVerdict(version, False, reason, days, live, backtest_rmsse)
    low, high = policy.coverage_low, policy.coverage_high
    problems = []
    if backtest_rmsse and live["rmsse"] > backtest_rmsse * (1 + policy.rmsse_tolerance):
        problems.append(
            f"live RMSSE {live['rmsse']:.3f} is more than {policy.rmsse_tolerance:.0%} above "
            f"the backtest's {backtest_rmsse:.3f}"
        )
    if not low <= live["coverage"] <= high:
        problems.append(
            f"live P10-P90 coverage {live['coverage']:.3f} is outside [{low:.2f}, {high:.2f}]"
        )
    if problems:
        reason = f"v{version} decayed over {days} days: " + "; ".join(problems)
        return DecayVerdict(version, True, reason, days, live, backtest_rmsse)
    promised = f"{backtest_rmsse:.3f}" if backtest_rmsse else "n/a"
    reason = (
        f"v{version} holds up over {days} days: live RMSSE {live['rmsse']:.3f} (backtest "
        f"{promised}), coverage {live['coverage']:.3f}"
    )
    return DecayVerdict(version, False, reason, days, live, backtest_rmsse)


def target_window(run_day: date, days: int) -> tuple[date, date]:
    """First and last target day of a window of ``days`` ending on ``run_day``."""
    return run_day - timedelta(days=days - 1), run_day
