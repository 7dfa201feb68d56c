"""Accuracy rows, their aggregates and the decay rule (see :mod:`forecasting.monitoring`)."""

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
    "accuracy_stats",
    "judge_decay",
    "lag_metrics",
    "lag_metrics_from_sums",
    "live_days",
    "panel_actuals",
    "summarise_accuracy",
    "summarise_stats",
    "target_window",
    "unjoined_rows",
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


def unjoined_rows(
    published: pd.DataFrame, joined: pd.DataFrame, categories: pd.Series
) -> pd.DataFrame:
    """Rows, with an unknown actual, for the published forecasts no panel joined (a series
    no longer in the catalogue), so every published forecast has exactly one row.

    Args:
        published: As in :func:`accuracy_rows`.
        joined: The rows every shard's :func:`accuracy_rows` returned.
        categories: Category per SKU (index: sku).
    """
    key = ["run_date", "target_date", "sku", "location_id"]
    frame = published.assign(
        run_date=pd.to_datetime(published["run_date"]).dt.date,
        target_date=pd.to_datetime(published["target_date"]).dt.date,
    )
    done = joined.loc[:, key].assign(_joined=True)
    frame = frame.merge(done, on=key, how="left")
    frame = frame.loc[frame["_joined"].isna()].drop(columns="_joined")
    if frame.empty:
        return pd.DataFrame(columns=list(ACCURACY_COLUMNS))
    frame["lag_days"] = (
        pd.to_datetime(frame["target_date"]) - pd.to_datetime(frame["run_date"])
    ).dt.days
    frame["category"] = frame["sku"].map(categories).fillna("unknown").astype(str)
    for column in ("actual", "scale_mae1", "scale_mse1", "scale_mae7"):
        frame[column] = np.nan
    return frame.loc[:, list(ACCURACY_COLUMNS)].reset_index(drop=True)


def panel_actuals(keys: pd.DataFrame, panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """Today's actuals of ``keys`` (``target_date, sku, location_id``) from a panel.

    Returns:
        The actuals (NaN on excluded days) and a mask of the keys the panel holds (series in
        the panel, target day in its history); other keys' actuals are NaN.
    """
    ids = pd.Index(panel.ids["unique_id"]).get_indexer(
        keys["sku"].astype(str) + "@" + keys["location_id"].astype(str)
    )
    days = pd.Index(panel.dates).get_indexer(pd.to_datetime(keys["target_date"]))
    found = (ids >= 0) & (days >= 0) & (days < panel.n_history)
    actual = np.full(len(keys), np.nan)
    actual[found] = panel.y[ids[found], days[found]]
    return actual, found


def accuracy_stats(rows: pd.DataFrame) -> pd.DataFrame:
    """Per series and run date (a run date is a backtest "window" here), what the metrics
    need: the reference of ``monitoring/select_accuracy_stats.sql``, which computes the same
    columns in the warehouse so that monitoring never loads a whole window of rows.

    Args:
        rows: Accuracy rows (:data:`ACCURACY_COLUMNS`); rows without an actual are left out.

    Returns:
        One row per ``sku, location_id, run_date`` with its ``category``,
        ``model_version`` and
        :data:`~forecasting.evaluation.metrics.STAT_COLUMNS`.
    """
    known = rows.loc[rows["actual"].notna()]
    keys = ("sku", "location_id", "run_date")
    frame = pd.DataFrame(
        {
            "sku": known["sku"].astype(str).to_numpy(),
            "location_id": known["location_id"].astype(str).to_numpy(),
            "run_date": pd.to_datetime(known["run_date"]).dt.date.to_numpy(),
            "y": known["actual"].to_numpy(float),
            **{c: known[c].to_numpy(float) for c in ("forecast", "p10", "p50", "p90")},
            **{s: known[f"scale_{s}"].to_numpy(float) for s in ("mae1", "mse1", "mae7")},
        }
    )
    stats = series_window_stats(frame, keys)
    # A run date has one version and a SKU one category: carried along, not grouped on.
    labels = (
        frame.assign(
            category=known["category"].astype(str).to_numpy(),
            model_version=known["model_version"].astype(str).to_numpy(),
        )
        .groupby(list(keys), sort=False)[["category", "model_version"]]
        .max()
        .reset_index()
    )
    stats = labels.merge(stats, on=list(keys)).sort_values(list(keys), ignore_index=True)
    stats["covered"] = stats["covered"].astype(int)
    return stats


def lag_metrics(rows: pd.DataFrame) -> pd.DataFrame:
    """Metrics by lag (the reference of ``monitoring/select_accuracy_by_lag.sql``).

    Within one lag a series has one row per run date, so each row is its own series-window
    and the scaled metrics are means of per-row ratios.

    Returns:
        One row per ``lag_days`` with ``n_rows`` and :data:`SUMMARY_METRICS`.
    """
    out = []
    known = rows.loc[rows["actual"].notna()]
    for lag, part in known.groupby("lag_days", sort=True):
        metrics = metrics_from_stats(accuracy_stats(part))
        out.append(
            {
                "lag_days": int(lag),
                "n_rows": len(part),
                **{name: float(metrics[source]) for name, source in SUMMARY_METRICS.items()},
            }
        )
    return pd.DataFrame(out, columns=["lag_days", "n_rows", *SUMMARY_METRICS])


def lag_metrics_from_sums(sums: pd.DataFrame) -> pd.DataFrame:
    """:func:`lag_metrics` from the warehouse's sums (``select_accuracy_by_lag.sql``)."""
    out = pd.DataFrame({"lag_days": sums["lag_days"].astype(int), "n_rows": sums["n_rows"]})
    y_sum, f_sum = sums["y_sum"].astype(float), sums["f_sum"].astype(float)
    sold = y_sum > 0
    out["wape"] = (sums["ae_sum"].astype(float) / y_sum).where(sold)
    out["bias"] = ((f_sum - y_sum) / y_sum).where(sold)
    out["rmsse"] = sums["rmsse"].astype(float)
    out["mase"] = sums["mase"].astype(float)
    out["pinball"] = sums[["spl_10", "spl_50", "spl_90"]].astype(float).mean(axis=1, skipna=False)
    out["coverage"] = sums["covered"].astype(float) / sums["n_rows"].astype(float)
    return out.loc[:, ["lag_days", "n_rows", *SUMMARY_METRICS]]


def _metrics(stats: pd.DataFrame) -> dict[str, float]:
    if stats.empty or stats["n"].sum() == 0:
        return {name: float("nan") for name in SUMMARY_METRICS}
    values = metrics_from_stats(stats)
    return {name: float(values[source]) for name, source in SUMMARY_METRICS.items()}


def summarise_stats(
    stats: pd.DataFrame, by_lag: pd.DataFrame, monitor_date: date, window_start: date
) -> pd.DataFrame:
    """The day's aggregates for ``forecast_accuracy_summary``.

    Args:
        stats: :func:`accuracy_stats` (or its SQL) of target days ``window_start ..
            monitor_date``.
        by_lag: :func:`lag_metrics` (or its SQL) of the same rows.
        monitor_date: The run's day.
        window_start: First target day of the window.

    Returns:
        One row per dimension value: ``monitor_date, dimension, value, window_start,
        n_rows`` and the metrics of :data:`SUMMARY_METRICS` (NaN where undefined, e.g.
        WAPE of a group that sold nothing).
    """
    out = []
    for dimension, column in DIMENSIONS.items():
        if dimension == "lag":
            for record in by_lag.to_dict(orient="records"):
                value = record.pop("lag_days")
                out.append({"dimension": dimension, "value": str(int(value)), **record})
            continue
        groups = [("all", stats)] if column is None else list(stats.groupby(column, sort=True))
        for value, part in groups:
            if part.empty or part["n"].sum() == 0:
                continue
            out.append(
                {
                    "dimension": dimension,
                    "value": str(value),
                    "n_rows": int(part["n"].sum()),
                    **_metrics(part),
                }
            )
    columns = ["monitor_date", "dimension", "value", "window_start", "n_rows", *SUMMARY_METRICS]
    frame = pd.DataFrame(out, columns=columns[1:]).assign(
        monitor_date=monitor_date, window_start=window_start
    )
    frame["n_rows"] = frame["n_rows"].astype(int)
    return frame.loc[:, columns]


def summarise_accuracy(rows: pd.DataFrame, monitor_date: date, window_start: date) -> pd.DataFrame:
    """:func:`summarise_stats` of accuracy rows held in memory (small catalogues, tests)."""
    return summarise_stats(accuracy_stats(rows), lag_metrics(rows), monitor_date, window_start)


def live_days(rows: pd.DataFrame) -> dict[str, int]:
    """Target days with at least one actual, per model version (the reference of
    ``monitoring/select_live_days.sql``)."""
    known = rows.loc[rows["actual"].notna()]
    counts = known.groupby(known["model_version"].astype(str))["target_date"].nunique()
    return {str(k): int(v) for k, v in counts.items()}


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
    stats: pd.DataFrame,
    days: int,
    version: str,
    backtest_rmsse: float | None,
    policy: MonitoringPolicy,
) -> DecayVerdict:
    """Apply the decay rule (module docstring) to the champion's forecasts of the window.

    Args:
        stats: :func:`accuracy_stats` of the window (every version; only ``version``'s
            rows count).
        days: Target days of the window with actuals of ``version``'s forecasts
            (:func:`live_days`).
        version: The serving champion.
        backtest_rmsse: What its backtest promised.
        policy: Tolerance, coverage band and minimum live days.
    """
    own = stats.loc[stats["model_version"].astype(str) == str(version)]
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
