"""Inventory simulation: how an order-up-to policy would have served a backtest window.

One backtest window per call, every series at once (arrays ``(series, days)``):

* **Timeline.** Day 0 is the forecast origin; days 1..H are the window. The stock review
  happens at the *end* of a day, after its demand. An order placed at the end of day ``t``
  arrives at the end of day ``t + L`` and serves demand from day ``t + L + 1`` on, so it
  must cover days ``t + 1 .. t + L + R`` (the protection period, ``R`` = review period).
  Reviews happen every ``R`` days from day 0 (daily with ``R = 1``) as long as the
  protection period lies inside the window (``t + L + R <= H``).
* **Start.** Stock on hand at the origin is the day-0 order-up-to level; nothing is on
  order.
* **Orders.** At each review, ``ceil(max(0, S_t - on_hand - on_order))`` units, whole
  units and no pack rounding (both policies alike).
* **Lost sales.** Demand beyond the stock on hand is lost, not backordered: what a shop
  sees (the customer buys elsewhere), and a stock-out does not inflate later orders. The
  textbook alternative, backorders, is an option: it is the setting in which the share
  of days without a stock-out *is* ``P(demand over L + R <= S)``, the service level the
  order-up-to level is set for. With lost sales the share is higher (a day's excess
  demand is forgotten instead of carried into the next ``L`` days).
* **Re-forecasting.** The order-up-to level ``S_t`` of day ``t`` comes from the
  *origin's* forecast of days ``t + 1 .. t + L + R`` (horizons grow through the window up
  to ``H``), not from a forecast re-made on day ``t`` as production would do. Later
  horizons are less accurate, so the simulation is, if anything, harder on both policies
  than daily re-forecasting.
* **Scored days.** Days ``L + R + 1 .. H``: the first ``L + R`` days are served by the
  starting stock alone, whatever the policy decides.

Metrics (:func:`summarise`): achieved cycle service level (share of scored series-days
without a stock-out; with ``R = 1`` every day is a review cycle), fill rate (units served /
units demanded), average stock on hand (end of day, units per series and day), stock-out
days and stock-out events (runs of consecutive stock-out days).

The two policies (:func:`simulate_policies`), from the same forecasts:

* ``calibrated`` (ours): ``S_t`` = the lead-time model's quantile at the service level
  (:func:`forecasting.replenishment.policy.demand_quantile`, the interpolation production
  uses), the model fitted only on earlier windows;
* ``reference``: ``S_t`` = the sum of the daily P50 over the protection period plus
  ``z_level * sigma * sqrt(L + R)``, ``sigma`` the series' standard deviation of daily
  errors (actual - forecast) on earlier windows (the pooled one for series with fewer
  than :data:`MIN_ERROR_DAYS` errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from forecasting.evaluation.leadtime import LeadTimeCalibrator, leadtime_totals
from forecasting.replenishment.policy import demand_quantile, demand_quantile_points

__all__ = [
    "MIN_ERROR_DAYS",
    "POLICIES",
    "SIMULATION_METRICS",
    "SimulationResult",
    "calibrated_order_up_to",
    "error_sigma",
    "reference_order_up_to",
    "review_days",
    "simulate_inventory",
    "simulate_policies",
    "summarise",
]

#: Fewest daily errors for a series' own error spread in the reference policy.
MIN_ERROR_DAYS = 28
#: The policies :func:`simulate_policies` compares.
POLICIES: tuple[str, ...] = ("calibrated", "reference")
#: Columns of :func:`summarise`.
SIMULATION_METRICS: tuple[str, ...] = (
    "series",
    "days",
    "cycle_service_level",
    "fill_rate",
    "average_on_hand",
    "stockout_days",
    "stockout_events",
)
_TOL = 1e-9


@dataclass(frozen=True)
class SimulationResult:
    """Day-by-day outcome of one simulation (``(series, H)`` arrays, column ``d - 1`` =
    day ``d``).

    Attributes:
        demand: Units demanded.
        served: Units sold from stock.
        on_hand: Stock at the end of the day.
        stockout: Stock-out days (lost sales: demand not fully served; backorders: net
            stock below zero at the end of the day).
        scored: Days the metrics count (``(H,)`` booleans, see the module docstring).
    """

    demand: np.ndarray
    served: np.ndarray
    on_hand: np.ndarray
    stockout: np.ndarray
    scored: np.ndarray

    def per_series(self) -> pd.DataFrame:
        """Per series sums over the scored days: ``days, demand, served, on_hand_sum,
        stockout_days, stockout_events`` (the inputs of :func:`summarise`)."""
        cols = self.scored
        out = self.stockout[:, cols]
        starts = out.copy()
        starts[:, 1:] &= ~out[:, :-1]
        return pd.DataFrame(
            {
                "days": np.full(len(self.demand), int(cols.sum())),
                "demand": self.demand[:, cols].sum(axis=1),
                "served": self.served[:, cols].sum(axis=1),
                "on_hand_sum": self.on_hand[:, cols].sum(axis=1),
                "stockout_days": out.sum(axis=1),
                "stockout_events": starts.sum(axis=1),
            }
        )


def review_days(horizon: int, lead_time_days: int, review_period_days: int = 1) -> np.ndarray:
    """Review days ``t`` (0 = origin) whose protection period fits in the window."""
    last = horizon - lead_time_days - review_period_days
    if last < 0:
        raise ValueError(
            f"lead time {lead_time_days} + review period {review_period_days} days exceed "
            f"the {horizon}-day window"
        )
    return np.arange(0, last + 1, review_period_days)


def simulate_inventory(
    demand: np.ndarray,
    order_up_to: np.ndarray,
    lead_time_days: int,
    review_period_days: int = 1,
    lost_sales: bool = True,
) -> SimulationResult:
    """Run an order-up-to policy over one window.

    Args:
        demand: ``(series, H)`` actual units of days 1..H (no NaN).
        order_up_to: ``(series, H + 1)`` level ``S_t`` at the end of day ``t`` (column 0 =
            origin); NaN where there is no review. Column 0 must be set: it is also the
            starting stock.
        lead_time_days: Days from an order to its arrival (``L``).
        review_period_days: Days between reviews (``R``; only sets the scored days here,
            reviews are where ``order_up_to`` is not NaN).
        lost_sales: Demand beyond the stock is lost (default). ``False``: it is
            backordered, served from the next arrivals; a day is then a stock-out day when
            the net stock (on hand less backorders) ends it below zero, the textbook
            event whose probability the order-up-to level's service level is.

    Returns:
        The day-by-day outcome (``served`` = units sold from stock on the day demanded).
    """
    demand = np.asarray(demand, float)
    levels = np.asarray(order_up_to, float)
    k, horizon = demand.shape
    if levels.shape != (k, horizon + 1):
        raise ValueError(f"order_up_to must be (series, {horizon + 1}), got {levels.shape}")
    if np.isnan(demand).any() or np.isnan(levels[:, 0]).any():
        raise ValueError("demand and the origin's order-up-to level must not be NaN")
    net = np.ceil(np.maximum(levels[:, 0], 0.0) - _TOL)  # on hand less backorders
    arrivals = np.zeros((k, horizon + lead_time_days + 2))  # by the day they can be sold on
    served = np.zeros((k, horizon))
    end = np.zeros((k, horizon))
    stockout = np.zeros((k, horizon), bool)
    pipeline = np.zeros(k)
    for day in range(horizon + 1):
        if day > 0:
            net += arrivals[:, day]
            pipeline -= arrivals[:, day]
            want = demand[:, day - 1]
            sold = np.clip(net, 0.0, want)
            served[:, day - 1] = sold
            net = net - sold if lost_sales else net - want
            stockout[:, day - 1] = want > sold + _TOL if lost_sales else net < -_TOL
            end[:, day - 1] = np.maximum(net, 0.0)
        target = levels[:, day]
        review = ~np.isnan(target)
        if review.any():
            need = np.nan_to_num(target) - net - pipeline
            qty = np.where(review, np.ceil(np.maximum(need, 0.0) - _TOL), 0.0)
            qty = np.maximum(qty, 0.0)
            arrivals[:, day + lead_time_days + 1] += qty
            pipeline += qty
    scored = np.arange(1, horizon + 1) > lead_time_days + review_period_days
    return SimulationResult(demand, served, end, stockout, scored)


def calibrated_order_up_to(
    forecast: np.ndarray,
    calibrator: LeadTimeCalibrator,
    lead_time_days: int,
    service_level: float,
    review_period_days: int = 1,
) -> np.ndarray:
    """Our policy's levels: the lead-time model's quantile of each review's protection
    period, from the origin's daily forecasts.

    Args:
        forecast: ``(series, H)`` daily point forecasts (expected units) of days 1..H.
        calibrator: Lead-time model fitted on earlier windows.
        lead_time_days: ``L``.
        service_level: Target level in [0.5, 0.99].
        review_period_days: ``R``.

    Returns:
        ``(series, H + 1)`` levels (NaN on days without a review).
    """
    forecast = np.asarray(forecast, float)
    k, horizon = forecast.shape
    n = lead_time_days + review_period_days
    out = np.full((k, horizon + 1), np.nan)
    for t in review_days(horizon, lead_time_days, review_period_days):
        points = demand_quantile_points(calibrator, forecast[:, t : t + n], np.full(k, n))
        out[:, t] = demand_quantile(points, service_level)
    return out


def reference_order_up_to(
    p50: np.ndarray,
    sigma: np.ndarray,
    lead_time_days: int,
    service_level: float,
    review_period_days: int = 1,
) -> np.ndarray:
    """The reference levels: sum of daily P50 plus ``z * sigma * sqrt(L + R)``.

    Args:
        p50: ``(series, H)`` daily medians of days 1..H.
        sigma: ``(series,)`` standard deviation of daily errors.
        lead_time_days: ``L``.
        service_level: Target level (``z`` = its standard normal quantile).
        review_period_days: ``R``.

    Returns:
        ``(series, H + 1)`` levels (NaN on days without a review).
    """
    p50 = np.asarray(p50, float)
    k, horizon = p50.shape
    n = lead_time_days + review_period_days
    z = NormalDist().inv_cdf(service_level)
    out = np.full((k, horizon + 1), np.nan)
    for t in review_days(horizon, lead_time_days, review_period_days):
        out[:, t] = p50[:, t : t + n].sum(axis=1) + z * np.asarray(sigma, float) * np.sqrt(n)
    return out


def error_sigma(errors: pd.DataFrame, min_days: int = MIN_ERROR_DAYS) -> pd.Series:
    """Per series standard deviation of daily errors, pooled for short series.

    Args:
        errors: ``unique_id`` and ``error`` (actual - forecast, units; NaN ignored).
        min_days: Series with fewer errors get the pooled standard deviation.

    Returns:
        Standard deviation by ``unique_id`` (index), with ``pooled`` in ``attrs``.
    """
    known = errors.loc[errors["error"].notna()]
    pooled = float(known["error"].std(ddof=1)) if len(known) > 1 else 0.0
    grouped = known.groupby("unique_id")["error"]
    sigma = grouped.std(ddof=1).where(grouped.size() >= min_days, pooled).fillna(pooled)
    sigma.attrs["pooled"] = pooled
    return sigma


def simulate_policies(
    forecasts: pd.DataFrame,
    window: int,
    lead_time_days: int = 7,
    service_level: float = 0.95,
    review_period_days: int = 1,
    lost_sales: bool = True,
) -> tuple[pd.Index, dict[str, SimulationResult]]:
    """Both policies on one backtest window, each fitted on the windows before it only.

    Args:
        forecasts: Every window's daily forecasts: ``unique_id``, ``window`` (0 = oldest),
            ``horizon`` (1..H), ``y`` (actual units, NaN = unknown), ``forecast``
            (expected units) and ``p50``.
        window: The window simulated; earlier windows calibrate both policies.
        lead_time_days: ``L``.
        service_level: Target cycle service level.
        review_period_days: ``R``.
        lost_sales: Lost sales (default) or backorders (:func:`simulate_inventory`).

    Returns:
        The series simulated (the window's series with every day's actual, forecast and
        P50 known), and per policy (:data:`POLICIES`) its outcome, rows in that order.

    Raises:
        ValueError: If no earlier window exists or the window has no complete series.
    """
    earlier = forecasts.loc[forecasts["window"] < window]
    if earlier.empty:
        raise ValueError(f"window {window} has no earlier window to calibrate on")
    calibrator = LeadTimeCalibrator.fit(leadtime_totals(earlier))
    sigma = error_sigma(earlier.assign(error=earlier["y"] - earlier["forecast"]))
    current = forecasts.loc[forecasts["window"] == window]
    wide = current.pivot_table(
        index="unique_id", columns="horizon", values=["y", "forecast", "p50"], dropna=False
    )
    horizon = int(current["horizon"].max())
    y = wide["y"].reindex(columns=range(1, horizon + 1)).to_numpy(float)
    forecast = wide["forecast"].reindex(columns=range(1, horizon + 1)).to_numpy(float)
    p50 = wide["p50"].reindex(columns=range(1, horizon + 1)).to_numpy(float)
    complete = ~(np.isnan(y).any(axis=1) | np.isnan(forecast).any(axis=1))
    complete &= ~np.isnan(p50).any(axis=1)
    if not complete.any():
        raise ValueError(f"window {window} has no series with every actual and forecast known")
    ids = wide.index[complete]
    y, forecast, p50 = y[complete], forecast[complete], p50[complete]
    series_sigma = sigma.reindex(ids).fillna(sigma.attrs["pooled"]).to_numpy(float)
    levels = {
        "calibrated": calibrated_order_up_to(
            forecast, calibrator, lead_time_days, service_level, review_period_days
        ),
        "reference": reference_order_up_to(
            p50, series_sigma, lead_time_days, service_level, review_period_days
        ),
    }
    return ids, {
        name: simulate_inventory(y, level, lead_time_days, review_period_days, lost_sales)
        for name, level in levels.items()
    }


def summarise(per_series: pd.DataFrame) -> dict[str, float]:
    """Pooled metrics of :meth:`SimulationResult.per_series` rows (any number of windows
    or datasets).

    Returns:
        :data:`SIMULATION_METRICS`: ``series`` (rows), ``days`` (series-days scored),
        ``cycle_service_level``, ``fill_rate`` (1 when nothing was demanded),
        ``average_on_hand`` (units per series-day), ``stockout_days``, ``stockout_events``.
    """
    days = float(per_series["days"].sum())
    demand = float(per_series["demand"].sum())
    stockouts = float(per_series["stockout_days"].sum())
    return {
        "series": float(len(per_series)),
        "days": days,
        "cycle_service_level": 1.0 - stockouts / days if days else float("nan"),
        "fill_rate": float(per_series["served"].sum()) / demand if demand else 1.0,
        "average_on_hand": float(per_series["on_hand_sum"].sum()) / days if days else 0.0,
        "stockout_days": stockouts,
        "stockout_events": float(per_series["stockout_events"].sum()),
    }
