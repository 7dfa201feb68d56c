"""What to order: an order-up-to policy on the lead-time quantiles of the forecast.

For each series with a stock position, a periodic-review order-up-to policy:

* the **protection period** is ``n = L + R`` days (lead time plus review period): an
  order placed today must cover demand until the order of the *next* review arrives;
* the **order-up-to level** ``S`` is the quantile, at the target cycle service level, of
  the *joint* demand over those ``n`` days, from the lead-time model
  (:class:`~forecasting.evaluation.leadtime.LeadTimeCalibrator`): ``m`` = the sum of the
  daily point forecasts over days 1..n and ``S = max(0, m + sqrt(max(m, 0.25)) * z)``. It
  is never a sum of daily quantiles (that is far too wide: days are not independent,
  neither are they perfectly dependent; the calibrator learned the aggregate from the
  backtest);
* the **suggested quantity** is ``max(0, S - on_hand - on_order)`` rounded *up* to a
  multiple of ``pack_size``, then raised to ``min_order_qty`` when positive;
* the **expected service level** is the model's ``P(demand over n days <= on_hand +
  on_order + suggested_qty)``: the inverse of the same quantile function.

Interpolation (:func:`demand_quantile_points`, :func:`demand_quantile`,
:func:`demand_cdf`). The calibrator holds ``z`` quantiles at lead times 7, 14 and 28 days
(per volume bin of ``m``) and levels 0.5 ... 0.99. For any ``n`` and level:

1. **days**: ``z`` is linear in ``n`` between the two fitted lead times around it, and
   clamped outside them (``n < 7`` uses the 7-day ``z``, ``n > 28`` the 28-day one). The
   volume bin at a fitted lead time ``d`` is the one of ``m * d / n`` (the same daily rate
   over ``d`` days);
2. the quantile at each fitted level is ``max(0, m + sqrt(max(m, 0.25)) * z)``, made
   non-decreasing in the level, and **non-decreasing in n**: demand over more days can
   only be larger, so the quantile for ``n`` days is the largest of those for ``1..n``
   days (each with its own ``m``);
3. **level**: linear in the level between fitted levels (exact at them). Levels outside
   [0.5, 0.99] are refused: the model has no quantile there.

``S`` is rounded up to whole units (``order_up_to``); since the rounding of the order
only adds stock, ``expected_service_level >= service_level`` on every row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from forecasting.evaluation.leadtime import LEADTIME_LEVELS, LeadTimeCalibrator
from forecasting.sources.shop import TABLE_COLUMNS

__all__ = [
    "MAX_SERVICE_LEVEL",
    "MIN_SERVICE_LEVEL",
    "POLICY_COLUMNS",
    "POSITION_COLUMNS",
    "REPLENISHMENT_COLUMNS",
    "ReplenishmentPolicy",
    "demand_cdf",
    "demand_quantile",
    "demand_quantile_points",
    "positions_from_source",
    "round_orders",
    "suggest_orders",
]

log = logging.getLogger(__name__)

#: Columns of ``replenishment_suggestions`` (less ``run_date`` and ``model_version``, which
#: the publishing step adds), in order.
REPLENISHMENT_COLUMNS: tuple[str, ...] = (
    "sku",
    "location_id",
    "on_hand",
    "on_order",
    "lead_time_days",
    "review_period_days",
    "service_level",
    "demand_mean",
    "order_up_to",
    "suggested_qty",
    "expected_service_level",
)
#: Columns of the source table ``replenishment_policy``.
POLICY_COLUMNS: tuple[str, ...] = TABLE_COLUMNS["replenishment_policy"]
#: Columns :func:`suggest_orders` needs per series (the policy plus the stock position).
POSITION_COLUMNS: tuple[str, ...] = (
    "sku",
    "location_id",
    "on_hand",
    "on_order",
    "lead_time_days",
    "review_period_days",
    "service_level",
    "pack_size",
    "min_order_qty",
)
#: Lowest target service level the lead-time model has a quantile for.
MIN_SERVICE_LEVEL = LEADTIME_LEVELS[0]
#: Highest target service level the lead-time model has a quantile for.
MAX_SERVICE_LEVEL = LEADTIME_LEVELS[-1]
_FLOOR = 0.25  # the lead-time model's scale floor: sqrt(max(m, 0.25))
_TOL = 1e-9


@dataclass(frozen=True)
class ReplenishmentPolicy:
    """A replenishment policy row: what :func:`positions_from_source` may apply to series
    that have a stock snapshot but no row in ``replenishment_policy``.

    Attributes:
        lead_time_days: Days from placing an order to its arrival (>= 0).
        review_period_days: Days between two order decisions (>= 1).
        service_level: Target cycle service level, in [0.5, 0.99].
        pack_size: Orders are whole multiples of it (>= 1).
        min_order_qty: Smallest positive order (>= 0).
    """

    lead_time_days: int = 7
    review_period_days: int = 7
    service_level: float = 0.95
    pack_size: int = 1
    min_order_qty: int = 0


def _fitted_days(calibrator: LeadTimeCalibrator) -> np.ndarray:
    if not calibrator.fitted:
        raise ValueError("the lead-time calibrator is not fitted (no backtest totals)")
    return np.array(sorted(int(k) for k in calibrator.z), dtype=int)


def _z_at(calibrator: LeadTimeCalibrator, lead: int, m: np.ndarray) -> np.ndarray:
    key = str(lead)
    code = np.searchsorted(np.asarray(calibrator.edges[key], float), m, side="right")
    z = np.asarray(calibrator.z[key], float)[code]
    return np.maximum.accumulate(z, axis=1)


def _interpolated_z(calibrator: LeadTimeCalibrator, m: np.ndarray, days: np.ndarray) -> np.ndarray:
    """``z`` at every fitted level for totals ``m`` over ``days`` days (rule 1)."""
    fitted = _fitted_days(calibrator)
    n = np.clip(days.astype(float), fitted[0], fitted[-1])
    rate = m / np.maximum(days, 1)
    if len(fitted) == 1:
        return _z_at(calibrator, int(fitted[0]), rate * fitted[0])
    lo = np.clip(np.searchsorted(fitted, n, side="right") - 1, 0, len(fitted) - 2)
    z = np.zeros((len(m), len(LEADTIME_LEVELS)))
    for i in range(len(fitted) - 1):
        rows = lo == i
        if not rows.any():
            continue
        d0, d1 = int(fitted[i]), int(fitted[i + 1])
        w = ((n[rows] - d0) / (d1 - d0))[:, None]
        z0 = _z_at(calibrator, d0, rate[rows] * d0)
        z1 = _z_at(calibrator, d1, rate[rows] * d1)
        z[rows] = (1 - w) * z0 + w * z1
    return z


def demand_quantile_points(
    calibrator: LeadTimeCalibrator, daily_forecast: np.ndarray, days: np.ndarray
) -> np.ndarray:
    """Quantiles of total demand over the first ``days`` days at the fitted levels.

    Args:
        calibrator: A fitted lead-time model.
        daily_forecast: ``(series, N)`` daily point forecasts (expected units) of the days
            that follow the decision, day 1 first; only the first ``days`` of a row are
            read (later entries may be NaN).
        days: ``(series,)`` protection periods ``L + R`` in days, 1..N.

    Returns:
        ``(series, len(LEADTIME_LEVELS))`` quantiles in units, non-negative and
        non-decreasing along the levels and in ``days`` (module docstring, rules 1-2).

    Raises:
        ValueError: If the calibrator is not fitted, a period is below 1 day or beyond the
            forecast, or a needed daily forecast is missing.
    """
    daily = np.asarray(daily_forecast, float)
    days = np.asarray(days, int)
    if daily.ndim != 2 or len(daily) != len(days):
        raise ValueError("daily_forecast must be (series, days) with one row per period")
    if len(days) == 0:
        return np.zeros((0, len(LEADTIME_LEVELS)))
    if days.min() < 1 or days.max() > daily.shape[1]:
        raise ValueError(
            f"protection periods must be 1..{daily.shape[1]} days (the forecast's length), "
            f"got {days.min()}..{days.max()}"
        )
    needed = np.arange(daily.shape[1])[None, :] < days[:, None]
    if np.isnan(daily[needed]).any():
        raise ValueError("a daily forecast inside a protection period is missing")
    cum = np.cumsum(np.where(needed, daily, 0.0), axis=1)
    best = np.zeros((len(days), len(LEADTIME_LEVELS)))
    for n in range(1, int(days.max()) + 1):
        rows = days >= n
        m = cum[rows, n - 1]
        z = _interpolated_z(calibrator, m, np.full(len(m), n))
        q = np.maximum(m[:, None] + np.sqrt(np.maximum(m, _FLOOR))[:, None] * z, 0.0)
        best[rows] = np.maximum(best[rows], np.maximum.accumulate(q, axis=1))
    return best


def _check_levels(levels: np.ndarray) -> None:
    bad = (levels < MIN_SERVICE_LEVEL - _TOL) | (levels > MAX_SERVICE_LEVEL + _TOL)
    if bad.any() or np.isnan(levels).any():
        raise ValueError(
            f"service levels must be in [{MIN_SERVICE_LEVEL}, {MAX_SERVICE_LEVEL}] (the "
            f"lead-time model's levels), got {sorted(set(levels[bad].tolist()))[:5]}"
        )


def demand_quantile(points: np.ndarray, level: float | np.ndarray) -> np.ndarray:
    """Quantile at any level in [0.5, 0.99], linear between the fitted levels.

    Args:
        points: :func:`demand_quantile_points` output ``(series, levels)``.
        level: One level for all rows or one per row.

    Returns:
        ``(series,)`` quantiles in units (exact at the fitted levels).

    Raises:
        ValueError: If a level is outside [0.5, 0.99].
    """
    levels = np.broadcast_to(np.asarray(level, float), (len(points),))
    _check_levels(levels)
    grid = np.asarray(LEADTIME_LEVELS, float)
    clipped = np.clip(levels, grid[0], grid[-1])
    j = np.clip(np.searchsorted(grid, clipped, side="right") - 1, 0, len(grid) - 2)
    w = (clipped - grid[j]) / (grid[j + 1] - grid[j])
    rows = np.arange(len(points))
    return (1 - w) * points[rows, j] + w * points[rows, j + 1]


def demand_cdf(points: np.ndarray, stock: np.ndarray) -> np.ndarray:
    """The model's probability that demand is at most ``stock``: the inverse of
    :func:`demand_quantile` (the largest level whose quantile is at most ``stock``).

    The model has quantiles from 0.5 to 0.99 only: a stock below the median gives 0.5
    (read "0.5 or less") and one at or above the P99 gives 0.99 ("0.99 or more").

    Args:
        points: :func:`demand_quantile_points` output ``(series, levels)``.
        stock: ``(series,)`` units available over the period.

    Returns:
        ``(series,)`` probabilities in [0.5, 0.99].
    """
    grid = np.asarray(LEADTIME_LEVELS, float)
    x = np.asarray(stock, float)[:, None] + _TOL
    j = (points <= x).sum(axis=1) - 1  # last fitted level whose quantile is <= stock
    out = np.where(j < 0, grid[0], grid[-1])
    inside = (j >= 0) & (j < len(grid) - 1)
    rows = np.flatnonzero(inside)
    jj = j[inside]
    q0, q1 = points[rows, jj], points[rows, jj + 1]
    frac = np.clip((x[rows, 0] - q0) / np.maximum(q1 - q0, _TOL), 0.0, 1.0)
    out[rows] = grid[jj] + frac * (grid[jj + 1] - grid[jj])
    return out


def round_orders(qty: np.ndarray, pack_size: np.ndarray, min_order_qty: np.ndarray) -> np.ndarray:
    """Round net requirements up to whole packs, then up to the minimum order.

    Args:
        qty: Units needed (``S - on_hand - on_order``; negative means nothing).
        pack_size: Pack size per row (>= 1).
        min_order_qty: Smallest positive order per row (>= 0).

    Returns:
        Order quantities: 0 where nothing is needed, else ``max(min_order_qty,
        ceil(qty / pack_size) * pack_size)``.
    """
    need = np.maximum(np.asarray(qty, float), 0.0)
    pack = np.asarray(pack_size, float)
    packs = np.ceil(need / pack - _TOL) * pack
    return np.where(packs > 0, np.maximum(packs, np.asarray(min_order_qty, float)), 0.0)


def _validate_positions(positions: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in POSITION_COLUMNS if c not in positions.columns]
    if missing:
        raise ValueError(f"positions lack columns {missing}")
    out = positions.loc[:, list(POSITION_COLUMNS)].copy()
    if out.duplicated(["sku", "location_id"]).any():
        raise ValueError("positions have more than one row per (sku, location_id)")
    for column, low in (
        ("lead_time_days", 0),
        ("review_period_days", 1),
        ("pack_size", 1),
        ("min_order_qty", 0),
    ):
        values = out[column].to_numpy(float)
        if np.isnan(values).any() or (values < low).any():
            raise ValueError(f"{column} must be a number >= {low} on every position")
    _check_levels(out["service_level"].to_numpy(float))
    for column in ("on_hand", "on_order"):
        out[column] = out[column].astype(float).fillna(0.0)
    return out


def suggest_orders(
    forecasts: pd.DataFrame, calibrator: LeadTimeCalibrator, positions: pd.DataFrame
) -> pd.DataFrame:
    """Order suggestions for every series with a stock position and a forecast.

    Args:
        forecasts: Daily forecasts of one run: ``sku``, ``location_id``, ``horizon``
            (1-based days after the run day) and ``forecast`` (expected units);
            ``unique_id`` may be present and is not needed.
        calibrator: The registered model's lead-time quantiles (fitted on its backtest).
        positions: One row per series: :data:`POSITION_COLUMNS` (``on_hand`` and
            ``on_order`` in units, missing = 0; ``service_level`` in [0.5, 0.99]).

    Returns:
        :data:`REPLENISHMENT_COLUMNS`, one row per position that has a forecast covering
        its ``lead_time_days + review_period_days`` days (positions without one are left
        out and counted in the log), sorted by ``sku, location_id``. ``order_up_to`` is
        rounded up to whole units; ``demand_mean`` is the forecast total over the period.

    Raises:
        ValueError: On a missing column, duplicate position, service level outside
            [0.5, 0.99], negative lead time, review period or pack below 1, or an
            unfitted calibrator.
    """
    pos = _validate_positions(positions)
    _fitted_days(calibrator)
    keys = ["sku", "location_id"]
    # unstack, not pivot_table(dropna=False): that would build every sku x location pair.
    wide = forecasts.set_index([*keys, "horizon"])["forecast"].astype(float).unstack("horizon")
    horizon = int(max(wide.columns)) if len(wide.columns) else 0
    wide = wide.reindex(columns=range(1, horizon + 1))
    pos["_days"] = (pos["lead_time_days"] + pos["review_period_days"]).astype(int)
    index = pd.MultiIndex.from_frame(pos[keys])
    found = index.isin(wide.index)
    daily = wide.reindex(index).to_numpy(float)
    if horizon:
        covered = np.arange(horizon)[None, :] < pos["_days"].to_numpy()[:, None]
        complete = ~np.isnan(np.where(covered, daily, 0.0)).any(axis=1)
        complete &= pos["_days"].to_numpy() <= horizon
    else:
        complete = np.zeros(len(pos), bool)
    keep = found & complete
    if (~keep).any():
        log.warning(
            "%d of %d positions have no forecast (%d) or one shorter than their lead time "
            "plus review period (%d): no suggestion for them",
            int((~keep).sum()),
            len(pos),
            int((~found).sum()),
            int((found & ~complete).sum()),
        )
    pos = pos.loc[keep].reset_index(drop=True)
    daily = daily[keep]
    days = pos["_days"].to_numpy(int)
    points = demand_quantile_points(calibrator, daily, days)
    level = pos["service_level"].to_numpy(float)
    order_up_to = np.ceil(demand_quantile(points, level) - _TOL)
    position = pos["on_hand"].to_numpy(float) + pos["on_order"].to_numpy(float)
    qty = round_orders(
        order_up_to - position, pos["pack_size"].to_numpy(), pos["min_order_qty"].to_numpy()
    )
    covered = np.arange(daily.shape[1])[None, :] < days[:, None]
    out = pos.assign(
        demand_mean=np.where(covered, daily, 0.0).sum(axis=1),
        order_up_to=order_up_to,
        suggested_qty=qty,
        expected_service_level=demand_cdf(points, position + qty),
    )
    out["lead_time_days"] = out["lead_time_days"].astype(int)
    out["review_period_days"] = out["review_period_days"].astype(int)
    return out.sort_values(keys, ignore_index=True).loc[:, list(REPLENISHMENT_COLUMNS)]


def positions_from_source(
    inventory_snapshots: pd.DataFrame,
    purchase_orders: pd.DataFrame | None,
    policy: pd.DataFrame | None,
    run_day: date,
    default_policy: ReplenishmentPolicy | None = None,
) -> pd.DataFrame:
    """Stock positions on ``run_day`` from the shop's source tables.

    * ``on_hand``: the series' latest ``inventory_snapshots`` row on or before
      ``run_day`` (``units_on_hand``; negative counts are taken as 0). Series with no
      snapshot by then are left out: their stock is unknown.
    * ``on_order``: the open purchase orders, those with ``expected_on`` after
      ``run_day`` (and ``ordered_on``, where given, on or before it, so a re-run of a past
      day sees what was known then). Orders expected on or before ``run_day`` are taken
      as received and counted in the snapshot.
    * the policy: the series' ``replenishment_policy`` row. Series with a snapshot but no
      policy row get ``default_policy``, or are left out when it is ``None``.

    Args:
        inventory_snapshots: ``sku, location_id, snapshot_date, units_on_hand``.
        purchase_orders: ``sku, location_id, quantity, expected_on[, ordered_on]`` (``None``
            or empty: nothing on order).
        policy: :data:`POLICY_COLUMNS` (``None`` or empty: only ``default_policy``).
        run_day: The run's day.
        default_policy: Policy for series without a policy row (optional).

    Returns:
        :data:`POSITION_COLUMNS`, one row per series, sorted by ``sku, location_id``.
    """
    keys = ["sku", "location_id"]
    day = pd.Timestamp(run_day)
    snaps = inventory_snapshots.assign(
        snapshot_date=pd.to_datetime(inventory_snapshots["snapshot_date"])
    )
    snaps = snaps.loc[snaps["snapshot_date"] <= day].sort_values([*keys, "snapshot_date"])
    latest = snaps.groupby(keys, as_index=False).last()
    stock = latest.loc[:, keys].assign(
        on_hand=np.maximum(latest["units_on_hand"].to_numpy(float), 0.0)
    )
    if purchase_orders is not None and len(purchase_orders):
        po = purchase_orders.assign(expected_on=pd.to_datetime(purchase_orders["expected_on"]))
        open_ = po["expected_on"] > day
        if "ordered_on" in po.columns:
            ordered = pd.to_datetime(po["ordered_on"])
            open_ &= ordered.isna() | (ordered <= day)
        on_order = po.loc[open_].groupby(keys, as_index=False)["quantity"].sum()
        stock = stock.merge(on_order.rename(columns={"quantity": "on_order"}), on=keys, how="left")
    else:
        stock["on_order"] = 0.0
    stock["on_order"] = stock["on_order"].astype(float).fillna(0.0)
    rules = (
        policy.loc[:, list(POLICY_COLUMNS)]
        if policy is not None and len(policy)
        else pd.DataFrame(columns=list(POLICY_COLUMNS))
    )
    out = stock.merge(rules, on=keys, how="left")
    no_rule = out["lead_time_days"].isna()
    if default_policy is not None:
        for column in POLICY_COLUMNS[2:]:
            out[column] = out[column].astype(float).fillna(getattr(default_policy, column))
    elif no_rule.any():
        log.info("%d series with stock but no replenishment_policy row: left out", no_rule.sum())
        out = out.loc[~no_rule]
    without_stock = len(
        rules.merge(stock[keys], on=keys, how="left", indicator=True).query("_merge == 'left_only'")
    )
    if without_stock:
        log.info(
            "%d policy rows without a stock snapshot on or before %s: left out",
            without_stock,
            day.date(),
        )
    for column in ("lead_time_days", "review_period_days", "pack_size", "min_order_qty"):
        out[column] = out[column].astype(int)
    out["service_level"] = out["service_level"].astype(float)
    return out.sort_values(keys, ignore_index=True).loc[:, list(POSITION_COLUMNS)]
