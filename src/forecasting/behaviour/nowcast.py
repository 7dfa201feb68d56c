"""The intraday surge alert: today's views and cart adds so far against what the published
forecast implies by this moment (``demand_alerts``).

For a moment ``at`` (naive, the shop's time) of shop day *D*, each series (SKU x location)
of the newest forecast published before *D* with a row for *D* is judged on two metrics,
views and cart adds:

* **observed** ``O``: the series' events from the start of *D* up to ``at`` (bot sessions
  left out, as :func:`~forecasting.behaviour.events.clean_events` does), counted by the
  database (``GROUP BY`` over the index on ``occurred_at``; no event id is read);
* **expected** ``E = F x r x p``: ``F`` the point forecast (units) for *D*; ``r`` the
  series' events per unit sold over the baseline (the 28 shop days before *D*, or fewer if
  the event log is younger), shrunk toward its location's ratio:
  ``r = (V + k r_loc) / (U + k)`` with ``V`` events and ``U`` units of the series and
  ``k`` :attr:`NowcastSettings.prior_units` pseudo-units (a series that sold little leans
  on its location; a new product, forecast from launch curves, takes its location's ratio);
  ``p`` the share of a day's events that happen before ``at``'s time of day (the shop-wide
  profile of the baseline by hour, linear within the hour). ``E`` is at least
  :attr:`NowcastSettings.min_expected` (a series forecast at zero can still be viewed);
* **z-score** ``z = (O - E) / sqrt(E + E^2 / theta)``: a negative-binomial variance,
  Poisson sampling plus a day-level multiplicative error of the rate whose squared
  coefficient of variation ``1 / theta`` is estimated from the baseline by the method of
  moments: per series and day, events ``x`` against ``m g`` (the series' mean times the
  shop's factor for that day, so weekly seasonality and shop-wide campaigns are not
  counted as noise), ``1 / theta = sum((x - m g)^2 - m g) / sum((m g)^2)``, clipped to
  ``[0, MAX_INVERSE_THETA]``, per metric.

A series alerts when ``|z| >= threshold`` (4), the ratio ``O / E`` is at least
``min_ratio`` (2) or at most its inverse, and ``max(O, E) >= min_count`` (20 events): the
ratio keeps big series with a slightly-off forecast quiet, the count keeps small series
(where a handful of views is already "twice as many") from flooding the table.

The baseline depends only on the days before *D*: given a storage, the first run of a shop
day computes it and stores it (stage ``nowcast_baseline`` of the run date *D - 1*, the
daily run's day), and the day's other hourly runs read it back instead of the 28 days of
events, which is most of a run's cost (measured: ``bench/nowcast_scale.py``). Events of
*D - 1* that land after the first run of *D* are not in it.

The alert hour is ``ceil(minutes since midnight / 60)``: events up to at most that hour;
midnight closes the day before (hour 24). The alerts of ``(alert_date, alert_hour)`` are
replaced in one transaction, so judging the same moment twice gives the same rows. It
reads the shop database and ``demand_forecast``; it never trains and never touches MLflow.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.behaviour.events import BOT_EVENTS_PER_DAY
from forecasting.db import read_frame
from forecasting.errors import NonRetryableError
from forecasting.extraction.source import NON_PRODUCT_CATEGORY
from forecasting.extraction.window import time_segments

if TYPE_CHECKING:
    from forecasting.storage import Storage

__all__ = [
    "ALERT_COLUMNS",
    "BASELINE_STAGE",
    "MAX_INVERSE_THETA",
    "NOWCAST_METRICS",
    "Baseline",
    "NoForecastError",
    "NowcastResult",
    "NowcastSettings",
    "alert_moment",
    "cached_baseline",
    "judge",
    "latest_forecast",
    "nowcast",
    "read_alerts",
    "read_baseline",
    "read_observed",
]

log = logging.getLogger(__name__)

#: The metrics judged: ``demand_alerts.metric`` values and the event counts' columns.
NOWCAST_METRICS = ("views", "cart_adds")
#: Columns of ``demand_alerts`` (and of :attr:`NowcastResult.alerts`).
ALERT_COLUMNS = (
    "alert_date",
    "alert_hour",
    "sku",
    "location_id",
    "metric",
    "observed",
    "expected",
    "ratio",
    "z_score",
    "direction",
    "forecast_run_date",
)
#: Largest squared coefficient of variation of a day's rate (a CV of 200 %): beyond it the
#: history says nothing steady enough to judge against.
MAX_INVERSE_THETA = 4.0
#: The storage stage (of run date *D - 1*) a shop day's baseline is kept in, and its files.
BASELINE_STAGE = "nowcast_baseline"
_SERIES_FILE, _LOCATIONS_FILE, _BASELINE_FILE = (
    "series.parquet",
    "locations.parquet",
    "baseline.json",
)


class NoForecastError(NonRetryableError):
    """No forecast was published for the judged day (nothing to compare with)."""


@dataclass(frozen=True)
class NowcastSettings:
    """The nowcast's thresholds and baseline (defaults: see the module docstring).

    Attributes:
        threshold: Smallest ``|z|`` that alerts.
        min_ratio: Observed/expected at least this (above) or at most its inverse (below).
        min_count: The larger of observed and expected must reach this many events.
        baseline_days: Shop days before the judged day the ratios, the profile and the
            dispersion are estimated on.
        min_history_days: Fewer days with events in the baseline: nothing is judged.
        prior_units: Pseudo-units of the location's events-per-unit in a series' ratio.
        min_expected: Floor of the expected count (events).
        bot_events: A session with more events in a shop day is a bot (left out).
    """

    threshold: float = 4.0
    min_ratio: float = 2.0
    min_count: float = 20.0
    baseline_days: int = 28
    min_history_days: int = 7
    prior_units: float = 10.0
    min_expected: float = 0.5
    bot_events: int = BOT_EVENTS_PER_DAY

    def __post_init__(self) -> None:
        rules = {
            "threshold > 0": self.threshold > 0,
            "min_ratio > 1": self.min_ratio > 1,
            "min_count >= 0": self.min_count >= 0,
            "1 <= min_history_days <= baseline_days": 1
            <= self.min_history_days
            <= self.baseline_days,
            "prior_units > 0": self.prior_units > 0,
            "min_expected > 0": self.min_expected > 0,
            "bot_events >= 1": self.bot_events >= 1,
        }
        broken = [rule for rule, ok in rules.items() if not ok]
        if broken:
            raise ValueError(f"invalid nowcast settings: {', '.join(broken)}")


@dataclass(frozen=True)
class Baseline:
    """What the days before the judged day say (:func:`read_baseline`).

    Attributes:
        first_day: First baseline day with events.
        days: Baseline days with events (``first_day`` .. the day before the judged one).
        series: Per ``sku``, ``location_id``: ``views``, ``cart_adds`` (events over the
            baseline) and ``units`` (demand over the same days).
        locations: Per ``location_id``: ``views_per_unit`` and ``cart_adds_per_unit``.
        profile: Events of the whole shop by hour of the day (24 values).
        inverse_theta: Per metric, the squared CV of a day's rate (``1 / theta``).
    """

    first_day: date
    days: int
    series: pd.DataFrame = field(repr=False)
    locations: pd.DataFrame = field(repr=False)
    profile: np.ndarray = field(repr=False)
    inverse_theta: dict[str, float]

    def day_share(self, minutes: float) -> float:
        """Share of a day's events before ``minutes`` after midnight (0-1440), linear
        within each hour of the profile."""
        total = float(self.profile.sum())
        hour = min(int(minutes // 60), 24)
        before = float(self.profile[:hour].sum())
        if hour < 24:
            before += float(self.profile[hour]) * (minutes - 60 * hour) / 60
        return before / total if total > 0 else 0.0


@dataclass(frozen=True)
class NowcastResult:
    """What one nowcast judged and wrote.

    Attributes:
        at: The moment judged (naive, shop time).
        alert_date: The shop day judged.
        alert_hour: Events up to at most this hour (1-24).
        forecast_run_date: The published run judged against (``None``: none was read).
        series_judged: Series of that forecast judged (each on both metrics).
        alerts: The alerts (:data:`ALERT_COLUMNS`), the largest ``|z|`` first.
        written: Whether ``demand_alerts`` was replaced for the moment.
        message: One line for a person: what was judged, or why nothing was.
        day_share: Share of a day's events expected before ``at``.
        inverse_theta: Per metric, the dispersion used.
        baseline_days: Days with events in the baseline.
        baseline_cached: Whether the baseline was read from storage (computed earlier today).
        seconds: Wall time of the reads, the judging and the write.
    """

    at: datetime
    alert_date: date
    alert_hour: int
    forecast_run_date: date | None
    series_judged: int
    alerts: pd.DataFrame = field(repr=False)
    written: bool
    message: str
    day_share: float = 0.0
    inverse_theta: dict[str, float] = field(default_factory=dict)
    baseline_days: int = 0
    baseline_cached: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (counts, not the alerts' rows): what a DAG task returns."""
        directions = self.alerts["direction"].value_counts() if len(self.alerts) else {}
        return {
            "at": self.at.isoformat(sep=" ", timespec="minutes"),
            "alert_date": self.alert_date.isoformat(),
            "alert_hour": self.alert_hour,
            "forecast_run_date": self.forecast_run_date.isoformat()
            if self.forecast_run_date
            else None,
            "series_judged": self.series_judged,
            "alerts": len(self.alerts),
            "above": int(directions.get("above", 0)),
            "below": int(directions.get("below", 0)),
            "written": self.written,
            "message": self.message,
            "day_share": round(self.day_share, 4),
            "inverse_theta": {k: round(v, 4) for k, v in self.inverse_theta.items()},
            "baseline_days": self.baseline_days,
            "baseline_cached": self.baseline_cached,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def alert_moment(at: datetime) -> tuple[date, int, float]:
    """The shop day, alert hour and minutes after midnight that ``at`` judges.

    Midnight closes the day before (hour 24, 1440 minutes); any other moment belongs to its
    own day, hour ``ceil(minutes / 60)``.

    Raises:
        ValueError: If ``at`` carries a timezone (it is the shop's naive local time).
    """
    if at.tzinfo is not None:
        raise ValueError(f"the judged moment is the shop's naive local time, got {at.isoformat()}")
    minutes = at.hour * 60 + at.minute + at.second / 60 + at.microsecond / 6e7
    if minutes == 0:
        return at.date() - timedelta(days=1), 24, 1440.0
    return at.date(), math.ceil(minutes / 60), minutes


def _source_time(local: datetime, shop_tz: str, source_tz: str) -> datetime:
    """A naive shop-local time as a naive source timestamp."""
    return (
        local.replace(tzinfo=ZoneInfo(shop_tz)).astimezone(ZoneInfo(source_tz)).replace(tzinfo=None)
    )


def _counts(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """SUM columns as floats (MySQL returns DECIMAL for sums)."""
    for column in columns:
        frame[column] = pd.to_numeric(frame[column]).astype(float)
    return frame


def _series_events(
    source: Engine,
    first: date,
    last: date,
    shop_tz: str,
    source_tz: str,
    bot_events: int,
    until: datetime | None = None,
) -> pd.DataFrame:
    """Views and cart adds per series and shop day of ``first`` .. ``last``, up to the
    source timestamp ``until`` when given."""
    parts = []
    for seg in time_segments(first, last, shop_tz, source_tz):
        params: dict[str, Any] = {**seg.params(), "bot_events": bot_events}
        if until is not None:
            if seg.start >= until:
                continue
            params["ts_end"] = min(seg.end, until).strftime("%Y-%m-%d %H:%M:%S")
        parts.append(read_frame(source, "nowcast/select_series_events", params))
    columns = ["sku", "location_id", "ds", *NOWCAST_METRICS]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    frame = _counts(frame.loc[:, columns], NOWCAST_METRICS)
    frame["ds"] = pd.to_datetime(frame["ds"]).dt.date
    return frame.groupby(["sku", "location_id", "ds"], as_index=False)[list(NOWCAST_METRICS)].sum()


def _inverse_theta(daily: pd.DataFrame, metric: str) -> float:
    """Squared CV of a series' day rate beyond Poisson, against the shop's day factor
    (method of moments; see the module docstring)."""
    totals = daily.groupby("ds")[metric].sum()
    totals = totals.loc[totals > 0]
    if len(totals) < 2:
        return 0.0
    g = totals / totals.mean()
    part = daily.loc[daily["ds"].isin(g.index)]
    x = part[metric].to_numpy(float)
    gd = part["ds"].map(g).to_numpy(float)
    keys = [part["sku"].to_numpy(), part["location_id"].to_numpy()]
    per = pd.DataFrame({"x": x, "xx": x * x, "xg": x * gd}).groupby(keys, sort=False).sum()
    g1, g2 = float(g.sum()), float((g * g).sum())
    m = per["x"] / g1
    sse = per["xx"] - 2 * m * per["xg"] + m * m * g2
    denominator = float((m * m * g2).sum())
    if denominator <= 0:
        return 0.0
    value = float((sse - per["x"]).sum()) / denominator
    return float(np.clip(value, 0.0, MAX_INVERSE_THETA))


def read_baseline(
    source: Engine,
    day: date,
    *,
    shop_tz: str,
    source_tz: str,
    settings: NowcastSettings | None = None,
) -> Baseline | None:
    """Events per unit, the intraday profile and the dispersion of the days before ``day``.

    Reads the ``baseline_days`` shop days before ``day`` (three aggregating queries; the
    units only from the first day with events, so a young event log is not compared with
    a month of orders).

    Args:
        source: The shop database.
        day: The judged shop day (not read).
        shop_tz: The shop's timezone.
        source_tz: Timezone of the source's naive timestamps.
        settings: Thresholds and baseline length.

    Returns:
        The baseline, or ``None`` when the baseline has no event at all.
    """
    settings = settings or NowcastSettings()
    first, last = day - timedelta(days=settings.baseline_days), day - timedelta(days=1)
    daily = _series_events(source, first, last, shop_tz, source_tz, settings.bot_events)
    if daily.empty:
        return None
    event_days = sorted(set(daily["ds"]))
    start = event_days[0]
    profile = np.zeros(24)
    for seg in time_segments(start, last, shop_tz, source_tz):
        hours = read_frame(source, "nowcast/select_hourly_events", seg.params())
        np.add.at(profile, hours["hour"].astype(int).to_numpy(), hours["events"].astype(float))
    units = read_frame(
        source,
        "nowcast/select_series_units",
        {
            "ts_start": _source_time(
                datetime.combine(start, datetime.min.time()), shop_tz, source_tz
            ).strftime("%Y-%m-%d %H:%M:%S"),
            "ts_end": _source_time(
                datetime.combine(day, datetime.min.time()), shop_tz, source_tz
            ).strftime("%Y-%m-%d %H:%M:%S"),
            "excluded_category": NON_PRODUCT_CATEGORY,
        },
    )
    units = _counts(units, ("units",))
    totals = daily.groupby(["sku", "location_id"], as_index=False)[list(NOWCAST_METRICS)].sum()
    series = totals.merge(units, on=["sku", "location_id"], how="outer").fillna(
        {"views": 0.0, "cart_adds": 0.0, "units": 0.0}
    )
    by_location = series.groupby("location_id")[["views", "cart_adds", "units"]].sum()
    shop = by_location.sum()
    locations = pd.DataFrame(index=by_location.index)
    for metric in NOWCAST_METRICS:
        shop_ratio = shop[metric] / shop["units"] if shop["units"] > 0 else np.nan
        locations[f"{metric}_per_unit"] = (
            by_location[metric] / by_location["units"].where(by_location["units"] > 0)
        ).fillna(shop_ratio)
    return Baseline(
        first_day=start,
        days=len(event_days),
        series=series,
        locations=locations.reset_index(),
        profile=profile,
        inverse_theta={m: _inverse_theta(daily, m) for m in NOWCAST_METRICS},
    )


def _baseline_key(
    day: date, shop_tz: str, source_tz: str, settings: NowcastSettings
) -> dict[str, Any]:
    """What a stored baseline was computed for (a different key: computed again)."""
    return {
        "day": day.isoformat(),
        "shop_tz": shop_tz,
        "source_tz": source_tz,
        "baseline_days": settings.baseline_days,
        "bot_events": settings.bot_events,
    }


def cached_baseline(
    storage: Storage,
    source: Engine,
    day: date,
    *,
    shop_tz: str,
    source_tz: str,
    settings: NowcastSettings | None = None,
) -> tuple[Baseline | None, bool]:
    """:func:`read_baseline`, kept in ``storage`` for the day's later runs.

    Returns:
        The baseline (``None`` without events: not stored) and whether it was read from
        storage.
    """
    from forecasting.storage import read_json, read_parquet, write_json, write_parquet

    settings = settings or NowcastSettings()
    key = _baseline_key(day, shop_tz, source_tz, settings)
    stage_day = day - timedelta(days=1)
    committed = storage.committed(stage_day, BASELINE_STAGE)
    if committed is not None:
        meta = read_json(committed / _BASELINE_FILE)
        if meta["key"] == key:
            return (
                Baseline(
                    first_day=date.fromisoformat(meta["first_day"]),
                    days=int(meta["days"]),
                    series=read_parquet(committed / _SERIES_FILE),
                    locations=read_parquet(committed / _LOCATIONS_FILE),
                    profile=np.asarray(meta["profile"], dtype=float),
                    inverse_theta={k: float(v) for k, v in meta["inverse_theta"].items()},
                ),
                True,
            )
    baseline = read_baseline(source, day, shop_tz=shop_tz, source_tz=source_tz, settings=settings)
    if baseline is None:
        return None, False
    with storage.write_stage(stage_day, BASELINE_STAGE) as folder:
        write_parquet(baseline.series, folder / _SERIES_FILE)
        write_parquet(baseline.locations, folder / _LOCATIONS_FILE)
        write_json(
            folder / _BASELINE_FILE,
            {
                "key": key,
                "first_day": baseline.first_day.isoformat(),
                "days": baseline.days,
                "profile": baseline.profile.tolist(),
                "inverse_theta": baseline.inverse_theta,
            },
        )
    return baseline, False


def read_observed(
    source: Engine,
    at: datetime,
    *,
    shop_tz: str,
    source_tz: str,
    bot_events: int = BOT_EVENTS_PER_DAY,
) -> pd.DataFrame:
    """Views and cart adds per series from the start of ``at``'s shop day up to ``at``.

    Returns:
        Columns ``sku``, ``location_id``, ``views``, ``cart_adds`` (floats).
    """
    day, _, _ = alert_moment(at)
    until = _source_time(at, shop_tz, source_tz)
    daily = _series_events(source, day, day, shop_tz, source_tz, bot_events, until=until)
    return daily.groupby(["sku", "location_id"], as_index=False)[list(NOWCAST_METRICS)].sum()


def latest_forecast(warehouse: Engine, day: date) -> tuple[pd.DataFrame, date]:
    """The forecasts for ``day`` of the newest run published before it.

    Returns:
        Columns ``sku``, ``location_id``, ``forecast``, ``cold_start``, and that run date.

    Raises:
        NoForecastError: If no run before ``day`` published a forecast for it.
    """
    frame = pd.DataFrame()
    if sa.inspect(warehouse).has_table("demand_forecast"):
        frame = read_frame(
            warehouse, "nowcast/select_latest_forecast", {"target_date": day.isoformat()}
        )
    if frame.empty:
        raise NoForecastError(
            f"no forecast published yet for {day}: demand_forecast has no row with "
            f"target_date {day} from a run before it (run the daily pipeline first)"
        )
    run_date = date.fromisoformat(str(frame["run_date"].iloc[0])[:10])
    frame["forecast"] = frame["forecast"].astype(float)
    return frame.loc[:, ["sku", "location_id", "forecast", "cold_start"]], run_date


def judge(
    forecast: pd.DataFrame,
    baseline: Baseline,
    observed: pd.DataFrame,
    minutes: float,
    settings: NowcastSettings | None = None,
) -> pd.DataFrame:
    """Observed against expected for every forecast series and metric (pure).

    Args:
        forecast: ``sku``, ``location_id``, ``forecast`` (units for the judged day).
        baseline: :func:`read_baseline` of the judged day.
        observed: :func:`read_observed` up to the judged moment.
        minutes: Minutes after midnight of the judged moment (0-1440).
        settings: Thresholds.

    Returns:
        One row per series and metric: ``sku``, ``location_id``, ``metric``,
        ``observed``, ``expected``, ``ratio``, ``z_score``, ``direction`` and ``alert``
        (bool).
    """
    settings = settings or NowcastSettings()
    keys = ["sku", "location_id"]
    share = baseline.day_share(minutes)
    frame = (
        forecast.loc[:, [*keys, "forecast"]]
        .merge(baseline.series, on=keys, how="left")
        .merge(baseline.locations, on="location_id", how="left")
        .merge(observed, on=keys, how="left", suffixes=("", "_now"))
    )
    parts = []
    k = settings.prior_units
    for metric in NOWCAST_METRICS:
        prior = frame[f"{metric}_per_unit"]
        shop_prior = float(baseline.locations[f"{metric}_per_unit"].mean())
        prior = prior.fillna(shop_prior)
        history = frame[metric].fillna(0.0)
        units = frame["units"].fillna(0.0)
        rate = (history + k * prior) / (units + k)
        expected = np.maximum(frame["forecast"] * rate * share, settings.min_expected)
        observed_now = frame[f"{metric}_now"].fillna(0.0)
        inverse_theta = baseline.inverse_theta.get(metric, 0.0)
        z = (observed_now - expected) / np.sqrt(expected + expected**2 * inverse_theta)
        ratio = observed_now / expected
        part = frame.loc[:, keys].assign(
            metric=metric, observed=observed_now, expected=expected, ratio=ratio, z_score=z
        )
        parts.append(part.loc[expected.notna()])
    judged = pd.concat(parts, ignore_index=True)
    judged["direction"] = np.where(judged["observed"] >= judged["expected"], "above", "below")
    judged["alert"] = (
        (judged["z_score"].abs() >= settings.threshold)
        & ((judged["ratio"] >= settings.min_ratio) | (judged["ratio"] <= 1 / settings.min_ratio))
        & (np.maximum(judged["observed"], judged["expected"]) >= settings.min_count)
    )
    return judged


def _write(warehouse: Engine, day: date, hour: int, alerts: pd.DataFrame) -> None:
    """Replace the moment's alerts in one transaction."""
    from forecasting.lifecycle.publish import TableWrite, publish_in_one_transaction
    from forecasting.publishing import ensure_forecast_tables

    ensure_forecast_tables(warehouse)
    write = TableWrite(
        "nowcast/delete_demand_alerts",
        {"alert_date": day.isoformat(), "alert_hour": hour},
        "nowcast/insert_demand_alerts",
        alerts,
    )
    publish_in_one_transaction(warehouse, [write], f"demand_alerts {day} hour {hour}")


def read_alerts(warehouse: Engine, alert_date: date, alert_hour: int) -> pd.DataFrame:
    """The stored alerts of one judged moment, the largest ``|z|`` first."""
    return read_frame(
        warehouse,
        "nowcast/select_demand_alerts",
        {"alert_date": alert_date.isoformat(), "alert_hour": alert_hour},
    )


def nowcast(
    source: Engine,
    warehouse: Engine,
    at: datetime,
    *,
    shop_tz: str,
    source_tz: str,
    settings: NowcastSettings | None = None,
    write: bool = True,
    cache: Storage | None = None,
) -> NowcastResult:
    """Judge the events of ``at``'s shop day so far against the published forecast and
    replace the moment's rows of ``demand_alerts`` (see the module docstring).

    Nothing is written (and no error raised) without a ``web_events`` table, without events
    in the baseline or on the judged day so far (a late event feed is not a collapse of
    demand), or with too short an event history; the result's ``message`` says which.

    Args:
        source: The shop database (``web_events``, ``orders``, ``order_lines``...).
        warehouse: Where ``demand_forecast`` is read and ``demand_alerts`` written.
        at: The moment judged: naive, the shop's local time.
        shop_tz: The shop's timezone.
        source_tz: Timezone of the source's naive timestamps.
        settings: Thresholds and baseline length.
        write: Write the alerts (``False``: only judge).
        cache: Storage to keep the day's baseline in (:func:`cached_baseline`); ``None``:
            read it from the source every time.

    Returns:
        What was judged and written.

    Raises:
        NoForecastError: If no forecast was published for the judged day.
        ValueError: If ``at`` carries a timezone.
    """
    settings = settings or NowcastSettings()
    day, hour, minutes = alert_moment(at)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    empty = pd.DataFrame(columns=list(ALERT_COLUMNS))

    def nothing(message: str, **extra: Any) -> NowcastResult:
        log.warning("nowcast %s: %s", at, message)
        seconds["total"] = time.perf_counter() - started
        return NowcastResult(
            at, day, hour, extra.pop("run_date", None), 0, empty, False, message,
            seconds=seconds, **extra,
        )  # fmt: skip

    if not sa.inspect(source).has_table("web_events"):
        return nothing("the shop has no web_events table: nothing to judge")
    forecast, run_date = latest_forecast(warehouse, day)
    seconds["forecast"] = time.perf_counter() - started
    mark = time.perf_counter()
    cached = False
    if cache is not None:
        baseline, cached = cached_baseline(
            cache, source, day, shop_tz=shop_tz, source_tz=source_tz, settings=settings
        )
    else:
        baseline = read_baseline(
            source, day, shop_tz=shop_tz, source_tz=source_tz, settings=settings
        )
    seconds["baseline"] = time.perf_counter() - mark
    if baseline is None:
        return nothing(
            f"no web events in the {settings.baseline_days} days before {day}: nothing judged",
            run_date=run_date,
        )
    if baseline.days < settings.min_history_days:
        return nothing(
            f"web events on only {baseline.days} of the {settings.baseline_days} days before "
            f"{day} (at least {settings.min_history_days} needed): nothing judged",
            run_date=run_date,
            baseline_days=baseline.days,
        )
    if float(baseline.series["units"].sum()) <= 0:
        return nothing(
            f"no orders since {baseline.first_day}: no events per unit, nothing judged",
            run_date=run_date,
            baseline_days=baseline.days,
        )
    mark = time.perf_counter()
    observed = read_observed(
        source, at, shop_tz=shop_tz, source_tz=source_tz, bot_events=settings.bot_events
    )
    seconds["observed"] = time.perf_counter() - mark
    if observed.empty:
        return nothing(
            f"no web events on {day} before {at:%H:%M}: nothing judged (is the event feed late?)",
            run_date=run_date,
            baseline_days=baseline.days,
        )
    judged = judge(forecast, baseline, observed, minutes, settings)
    alerts = judged.loc[judged["alert"]].drop(columns="alert")
    alerts = alerts.reindex(alerts["z_score"].abs().sort_values(ascending=False).index)
    alerts = (
        alerts.assign(
            alert_date=day.isoformat(), alert_hour=hour, forecast_run_date=run_date.isoformat()
        )
        .loc[:, list(ALERT_COLUMNS)]
        .reset_index(drop=True)
    )
    if write:
        mark = time.perf_counter()
        _write(warehouse, day, hour, alerts)
        seconds["write"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - started
    series = len(forecast)
    message = (
        f"{len(alerts)} alert(s) among {series:,} series at {day} hour {hour} "
        f"(judged against the forecast of {run_date})"
    )
    log.info("nowcast %s: %s", at, message)
    return NowcastResult(
        at=at,
        alert_date=day,
        alert_hour=hour,
        forecast_run_date=run_date,
        series_judged=series,
        alerts=alerts,
        written=write,
        message=message,
        day_share=baseline.day_share(minutes),
        inverse_theta=baseline.inverse_theta,
        baseline_days=baseline.days,
        baseline_cached=cached,
        seconds=seconds,
    )
