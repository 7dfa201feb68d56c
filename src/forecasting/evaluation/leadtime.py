"""Quantiles of total demand over a lead time: 7, 14 and 28 days after the forecast day.

Daily P10/P90 cannot be added up: the total over 14 days is neither the sum of daily P90s
(far too wide when days are independent) nor the sum of daily P50s. Days are not
independent either: when a series' level is off, it is off for all 14 days. We model the
aggregate directly, from the backtest, so correlation across days is in the data:

* for each series, backtest window and lead time *L*, the forecast total is
  ``m = sum of the daily point forecasts over days 1..L`` and the actual total ``A``;
* the standardised error ``z = (A - m) / sqrt(max(m, 0.25))`` (a Poisson-like scale, so
  series of different volume are comparable);
* ``z`` is pooled over series and windows, separately for each lead time and for up to
  :data:`MAX_BINS` volume bins of ``m`` (cut at quantiles, at least :data:`MIN_PER_BIN`
  totals each), and its empirical quantiles are the model: the lead-time quantile ``q``
  of a series is ``max(0, m + sqrt(max(m, 0.25)) * z_q)``.

The quantiles are fitted only on windows before the one they are scored on (as the daily
intervals are; :func:`leadtime_coverage`), and the shipped model on every window. A total
with a day excluded from accuracy (an outlier or a stock-out) is left out.

Totals are counts. Where a quantile falls on a value the total can take, the share of
totals *at or below* it exceeds the level even for a perfect model (when ``P(A = 0)`` is
0.7, every median is 0 and covers 70 %), so coverage also reports the share strictly
below: a calibrated quantile of a count has ``share below <= level <= share at or below``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecasting.artifacts import LEADTIME_ARTIFACT

__all__ = [
    "LEADTIME_ARTIFACT",
    "LEADTIME_DAYS",
    "LEADTIME_LEVELS",
    "LeadTimeCalibrator",
    "coverage_shares",
    "leadtime_coverage",
    "leadtime_totals",
    "level_column",
    "order_up_to_level",
]

#: Lead times, in days, with published quantiles.
LEADTIME_DAYS: tuple[int, ...] = (7, 14, 28)
#: Published quantile levels of the total.
LEADTIME_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99)
#: At most this many volume bins per lead time.
MAX_BINS = 5
#: Fewest backtest totals per volume bin.
MIN_PER_BIN = 200
_FLOOR = 0.25


def level_column(level: float) -> str:
    """Column name of a quantile level: 0.95 -> ``p95``."""
    return f"p{round(level * 100):d}"


def _scale(m: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(m, _FLOOR))


def leadtime_totals(forecast: pd.DataFrame, days: tuple[int, ...] = LEADTIME_DAYS) -> pd.DataFrame:
    """Forecast (and, where present, actual) totals over the first ``days`` of a forecast.

    Args:
        forecast: Daily forecasts with ``unique_id``, ``horizon`` (1-based), ``forecast``
            and optionally ``y`` and ``window``; series whose forecast is shorter than a
            lead time get no row for it.

    Returns:
        One row per series (and window) and lead time: ``unique_id``, [``window``,]
        ``days``, ``m`` (forecast total), [``actual`` (NaN if any day's actual is missing)].
    """
    keys = ["unique_id"] + (["window"] if "window" in forecast.columns else [])
    has_y = "y" in forecast.columns
    parts = []
    for lead in days:
        part = forecast.loc[forecast["horizon"] <= lead]
        grouped = part.groupby(keys, sort=False)
        out = grouped.agg(m=("forecast", "sum"), n=("horizon", "size"))
        if has_y:
            out["actual"] = grouped["y"].sum(min_count=1)
            out.loc[grouped["y"].count() < out["n"], "actual"] = np.nan
        out = out.loc[out["n"] == lead].drop(columns="n").reset_index()
        parts.append(out.assign(days=lead))
    columns = [*keys, "days", "m"] + (["actual"] if has_y else [])
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True).loc[:, columns]


@dataclass(frozen=True)
class LeadTimeCalibrator:
    """Empirical quantiles of the standardised lead-time error, per lead time and volume bin.

    Attributes:
        edges: Per lead time (``str(days)``), the upper edges of the volume bins of ``m``
            (the last bin is open).
        z: Per lead time, per bin, the quantiles of ``z`` at :data:`LEADTIME_LEVELS`.
        n_obs: Backtest totals it was fitted on, per lead time.
    """

    edges: dict[str, list[float]] = field(default_factory=dict)
    z: dict[str, list[list[float]]] = field(default_factory=dict)
    n_obs: dict[str, int] = field(default_factory=dict)

    @classmethod
    def fit(cls, totals: pd.DataFrame) -> LeadTimeCalibrator:
        """Fit on :func:`leadtime_totals` rows with known actuals."""
        edges: dict[str, list[float]] = {}
        zq: dict[str, list[list[float]]] = {}
        n_obs: dict[str, int] = {}
        known = totals.loc[totals["actual"].notna()]
        for lead, part in known.groupby("days"):
            m = part["m"].to_numpy(float)
            z = (part["actual"].to_numpy(float) - m) / _scale(m)
            bins = int(np.clip(len(m) // MIN_PER_BIN, 1, MAX_BINS))
            cuts: np.ndarray = (
                np.unique(np.quantile(m, np.arange(1, bins) / bins)) if bins > 1 else np.empty(0)
            )
            code = np.searchsorted(cuts, m, side="right")
            key = str(int(lead))
            edges[key] = [float(c) for c in cuts]
            zq[key] = [
                [float(v) for v in np.quantile(z[code == b], LEADTIME_LEVELS, method="higher")]
                if (code == b).any()
                else [float(v) for v in np.quantile(z, LEADTIME_LEVELS, method="higher")]
                for b in range(len(cuts) + 1)
            ]
            n_obs[key] = len(m)
        return cls(edges, zq, n_obs)

    @property
    def fitted(self) -> bool:
        """Whether any lead time has quantiles."""
        return bool(self.z)

    def quantiles(self, totals: pd.DataFrame) -> pd.DataFrame:
        """Lead-time quantiles for :func:`leadtime_totals` rows.

        Returns:
            ``totals`` plus one column per level (``p50`` ... ``p99``), non-negative and
            non-decreasing in the level; lead times the calibrator has no data for are
            dropped.
        """
        parts = []
        for lead, part in totals.groupby("days", sort=False):
            key = str(int(lead))
            if key not in self.z:
                continue
            m = part["m"].to_numpy(float)
            code = np.searchsorted(np.asarray(self.edges[key], float), m, side="right")
            z = np.asarray(self.z[key], float)[code]
            values = np.maximum(m[:, None] + _scale(m)[:, None] * z, 0.0)
            values = np.maximum.accumulate(values, axis=1)
            cols = {level_column(q): values[:, i] for i, q in enumerate(LEADTIME_LEVELS)}
            parts.append(part.assign(**cols))
        if not parts:
            return totals.iloc[:0].assign(**{level_column(q): [] for q in LEADTIME_LEVELS})
        return pd.concat(parts, ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``LeadTimeCalibrator(**d)`` restores it)."""
        return {"edges": self.edges, "z": self.z, "n_obs": self.n_obs}


def leadtime_coverage(totals: pd.DataFrame, first_scored_window: int) -> pd.DataFrame:
    """Backtest coverage of the lead-time quantiles, each window calibrated on earlier ones.

    Args:
        totals: :func:`leadtime_totals` of every backtest window (with ``window`` and
            ``actual``).
        first_scored_window: Windows before it only calibrate.

    Returns:
        One row per lead time: ``days``, ``n`` (totals scored), per level the share of
        actual totals at or below the quantile (``p50`` ... ``p99``; nominal = the level)
        and the share strictly below it (``p50_below`` ...; the two are equal where no total
        ties its quantile, see the module docstring).
    """
    scored = []
    for k in sorted(w for w in totals["window"].unique() if w >= first_scored_window):
        calibrator = LeadTimeCalibrator.fit(totals.loc[totals["window"] < k])
        window = totals.loc[(totals["window"] == k) & totals["actual"].notna()]
        scored.append(calibrator.quantiles(window))
    if not scored:
        return coverage_shares(pd.DataFrame(columns=["days", "actual"]))
    return coverage_shares(pd.concat(scored, ignore_index=True))


def coverage_shares(quantiles: pd.DataFrame) -> pd.DataFrame:
    """Per lead time, the share of actual totals at or below and strictly below each quantile.

    Args:
        quantiles: Rows with ``days``, ``actual`` and the ``p50`` ... ``p99`` columns (as
            :meth:`LeadTimeCalibrator.quantiles` returns them).

    Returns:
        The columns of :func:`leadtime_coverage`.
    """
    levels = [level_column(q) for q in LEADTIME_LEVELS]
    columns = ["days", "n", *levels, *(f"{c}_below" for c in levels)]
    rows = []
    for lead, part in quantiles.groupby("days"):
        actual = part["actual"].to_numpy(float)
        row: dict[str, Any] = {"days": int(lead), "n": len(part)}
        for col in levels:
            quantile = part[col].to_numpy(float)
            row[col] = float((actual <= quantile + 1e-9).mean())
            row[f"{col}_below"] = float((actual < quantile - 1e-9).mean())
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def order_up_to_level(
    leadtime: pd.DataFrame, service_level: float, on_hand: pd.Series | None = None
) -> pd.DataFrame:
    """Order-up-to level and safety stock for a cycle service level over a lead time.

    The order-up-to level is the lead-time quantile at the service level (the stock that
    covers the lead time's demand with that probability); safety stock is what it holds
    above the median demand. With ``on_hand``, the suggested order is what brings the
    stock up to that level.

    Args:
        leadtime: Rows of ``demand_forecast_leadtime`` (``p50`` ... ``p99`` columns) for
            the lead time wanted (one row per series).
        service_level: One of :data:`LEADTIME_LEVELS` (e.g. 0.95).
        on_hand: Units on hand, aligned with ``leadtime``'s index (optional).

    Returns:
        ``leadtime`` plus ``order_up_to``, ``safety_stock`` and, with ``on_hand``,
        ``order_qty`` (never negative), all rounded up to whole units.
    """
    if service_level not in LEADTIME_LEVELS:
        raise ValueError(f"service level {service_level} is not one of {LEADTIME_LEVELS}")
    level = np.ceil(leadtime[level_column(service_level)].to_numpy(float))
    out = leadtime.assign(
        order_up_to=level, safety_stock=np.maximum(level - leadtime["p50"].to_numpy(float), 0.0)
    )
    out["safety_stock"] = np.ceil(out["safety_stock"])
    if on_hand is not None:
        out["order_qty"] = np.maximum(level - on_hand.to_numpy(float), 0.0)
    return out
