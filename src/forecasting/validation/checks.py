"""Catalogue-level checks: what no single shard can judge, run once all shards validated.

Each check returns a :class:`~forecasting.validation.suite.Finding` with its own rule name,
so failures read like the Great Expectations ones (rule, table, sample rows):

* ``latest_day_volume`` -- the run's day has at least ``min_latest_day_ratio`` of the
  median units of the same weekday in the previous four weeks (an incomplete load or a
  day with no orders is caught), unless the day is a holiday or closure;
* ``orphan_order_lines`` -- at most ``max_orphan_share`` of the last 28 days' order lines
  have a missing SKU or location, or one the catalogue does not know;
* ``series_vs_published`` -- the run forecasts at least ``min_series_ratio`` of the series
  the previous run published, and of what this date already has (a source that lost
  months of orders never replaces good forecasts with nothing);
* ``demand_present`` -- some series has demand at all;
* ``min_history_days`` -- the shop's order history (its first day with demand to the run's
  day) is at least ``min_history_days`` long: shorter, and no forecast would mean much.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

from forecasting.config import DataChecks
from forecasting.validation.suite import Finding

__all__ = ["NO_VOLUME_EVENT_KINDS", "catalogue_checks", "daily_units"]

#: Calendar event kinds on which a low-volume day is expected.
NO_VOLUME_EVENT_KINDS = frozenset({"holiday", "closure"})
#: Days of daily totals each shard reports for the volume check.
VOLUME_DAYS = 35


def daily_units(demand: Any, last_day: date, days: int = VOLUME_DAYS) -> dict[str, float]:
    """Units per day for the ``days`` days up to ``last_day`` (excluded days count zero)."""
    first = np.datetime64(last_day - timedelta(days=days - 1))
    recent = demand.loc[demand["ds"] >= first]
    totals = recent.groupby("ds")["y"].sum(min_count=0)
    return {str(d.date()): float(v) for d, v in totals.items()}


def _latest_day(
    run_day: date, totals: dict[str, float], events: list[dict[str, str]], checks: DataChecks
) -> Finding:
    same_weekday = [totals.get((run_day - timedelta(days=7 * k)).isoformat()) for k in range(1, 5)]
    reference = [v for v in same_weekday if v is not None]
    latest = totals.get(run_day.isoformat(), 0.0)
    median = float(np.median(reference)) if reference else 0.0
    kinds = {e["kind"] for e in events if e.get("ds", "")[:10] == run_day.isoformat()}
    exempt = sorted(kinds & NO_VOLUME_EVENT_KINDS)
    ok = median <= 0 or latest >= checks.min_latest_day_ratio * median or bool(exempt)
    observed = f"{latest:g} units on {run_day} vs median {median:g} of the same weekday in the previous 4 weeks"
    if exempt:
        observed += f" ({', '.join(exempt)} day: low volume expected)"
    return Finding(
        "latest_day_volume",
        {"min_ratio": str(checks.min_latest_day_ratio)},
        ok,
        table="demand (all shards, daily units)",
        observed=observed,
        sample_rows=[]
        if ok
        else [
            {"ds": (run_day - timedelta(days=7 * k)).isoformat(), "units": f"{v:g}"}
            for k, v in enumerate([latest, *same_weekday], start=0)
            if v is not None
        ][:5],
    )


def _orphans(quality: dict[str, int], checks: DataChecks) -> Finding:
    lines = max(int(quality.get("line_count", 0)), 1)
    keys = ("null_sku", "unknown_sku", "null_location", "unknown_location")
    orphans = sum(int(quality.get(k, 0)) for k in keys)
    share = orphans / lines
    return Finding(
        "orphan_order_lines",
        {"max_share": str(checks.max_orphan_share)},
        share <= checks.max_orphan_share,
        table="order_lines x orders (source, last 28 days)",
        observed=f"{orphans} of {quality.get('line_count', 0)} lines ({share:.2%}): "
        + ", ".join(f"{k}={quality.get(k, 0)}" for k in keys),
    )


def _series_ratio(
    series: int,
    previous: dict[str, Any] | None,
    same_date: dict[str, Any] | None,
    checks: DataChecks,
) -> Finding:
    references = {
        label: int(row["series_count"])
        for label, row in (("previous run", previous), ("this date's published run", same_date))
        if row
    }
    reference = max(references.values(), default=0)
    ok = reference == 0 or series >= checks.min_series_ratio * reference
    return Finding(
        "series_vs_published",
        {"min_ratio": str(checks.min_series_ratio)},
        ok,
        table="demand (all shards) vs forecast_runs",
        observed=f"{series} series to forecast; "
        + (
            ", ".join(
                f"{label} ({row['run_date']}) published {references[label]}"
                for label, row in (
                    ("previous run", previous),
                    ("this date's published run", same_date),
                )
                if row
            )
            or "nothing published before"
        ),
    )


def _history(run_day: date, first_sale: date | None, checks: DataChecks) -> Finding:
    days = (run_day - first_sale).days + 1 if first_sale else 0
    since = f" (first sale {first_sale}, run day {run_day})" if first_sale else ""
    return Finding(
        "min_history_days",
        {"min_days": str(checks.min_history_days)},
        first_sale is None or days >= checks.min_history_days,  # no demand: demand_present
        table="demand (all shards)",
        observed=f"the shop has {days} day{'' if days == 1 else 's'} of order history{since}; at least "
        f"{checks.min_history_days} are needed (checks.min_history_days)",
    )


def catalogue_checks(
    run_day: date,
    *,
    totals: dict[str, float],
    series: int,
    first_sale: date | None = None,
    events: list[dict[str, str]],
    quality: dict[str, int],
    previous: dict[str, Any] | None,
    same_date: dict[str, Any] | None,
    checks: DataChecks,
) -> list[Finding]:
    """Run the catalogue-level checks (see the module docstring).

    Args:
        run_day: The run's day.
        totals: Units per day over the last weeks, all shards summed.
        series: Series the run would forecast (all shards).
        first_sale: The shop's first day with demand in the extracted window.
        events: Calendar events (``ds``, ``kind``) around the run's day.
        quality: Order-line counts from :func:`~forecasting.extraction.read_line_quality`.
        previous: The ``forecast_runs`` row of the latest earlier run date, if any.
        same_date: The ``forecast_runs`` row of this date, if it was published before.
        checks: Thresholds.
    """
    return [
        Finding(
            "demand_present",
            {},
            series > 0,
            table="demand (all shards)",
            observed=f"{series} series with demand in the window",
        ),
        _history(run_day, first_sale, checks),
        _latest_day(run_day, totals, events, checks),
        _orphans(quality, checks),
        _series_ratio(series, previous, same_date, checks),
    ]
