"""Accuracy against actuals: every published forecast, once its target day has ended.

:mod:`.accuracy` holds the rows, aggregates and decay rule; :mod:`.stage` the monitoring
stage the pipeline's ``monitor`` step calls (the warehouse transaction, the verdict).

Each run date's published forecasts are an as-of snapshot. On run day *D*, monitoring
writes the rows of target day *D* (every forecast made for it, whatever day it was made
on, joined with the actual of today's extract). For the ``late_days - 1`` target days
before it, it compares the actuals stored with today's and updates the ``actual`` of the
rows whose actual changed, so late actuals update the rows they touch and nothing else; a
target day whose number of published forecasts differs from its number of rows (a
backfilled run date, a day monitoring missed) is rewritten whole. A re-run of a date
writes the same rows. The series' scales are those of the day a row was first written.
Days excluded from training (outliers, stock-outs) have no actual and are left out of
every metric.

From the rows of the last ``window_days`` target days it writes the day's aggregates to
``forecast_accuracy_summary`` (whole catalogue, by lag, category and location): WAPE,
bias, RMSSE, MASE, scaled pinball and P10-P90 coverage, with the conventions of
:mod:`forecasting.evaluation.metrics` (a "window" there is a run date here). The warehouse
aggregates the rows (``include/sql/monitoring/select_accuracy_*.sql``: one row per series
and run date, one per lag), so memory does not grow with the window: at 30,000 series a
28-day window holds 23.5 million accuracy rows. :func:`accuracy_stats` and
:func:`lag_metrics` are the same computations in pandas, and a test holds the two equal.

**Decay.** The serving champion has decayed when, over at least ``min_live_days`` target
days of its own forecasts, its live RMSSE exceeds its backtest RMSSE by more than
``rmsse_tolerance``, or its P10-P90 coverage leaves ``[coverage_low, coverage_high]``
(:class:`~forecasting.config.MonitoringPolicy`). Monitoring then tags the version
``monitoring.decay = true`` with the reason; the training cadence
(:mod:`forecasting.training.cadence`) retrains on the next run whatever the champion's
age, and a new champion starts without the tag.
"""

from forecasting.monitoring.accuracy import (
    ACCURACY_COLUMNS,
    DIMENSIONS,
    SUMMARY_METRICS,
    DecayVerdict,
    accuracy_rows,
    accuracy_stats,
    judge_decay,
    lag_metrics,
    lag_metrics_from_sums,
    live_days,
    panel_actuals,
    summarise_accuracy,
    summarise_stats,
    target_window,
    unjoined_rows,
)

__all__ = [
    "ACCURACY_COLUMNS",
    "DIMENSIONS",
    "SUMMARY_METRICS",
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
