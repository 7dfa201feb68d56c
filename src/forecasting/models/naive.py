"""Seasonal naive: the same weekday last week. The baseline every model must beat."""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
from scipy import stats

from forecasting.features.direct import Rows
from forecasting.features.panel import Panel
from forecasting.models.base import Forecaster, Prediction
from forecasting.models.params import Constraint, Interval

__all__ = ["SeasonalNaive"]


class SeasonalNaive(Forecaster):
    """Forecast ``y[t - season * ceil(h / season)]``: the last value one season back.

    Quantiles add the empirical P10/P50/P90 of each series' seasonal differences
    ``y[d] - y[d - season]`` over the last ``residual_days`` days to the point forecast
    (the usual naive prediction interval, but without a normality assumption).

    Args:
        season: Season length in days.
        residual_days: Days of history whose seasonal differences give the quantiles.
    """

    family: ClassVar[str] = "seasonal_naive"
    param_constraints: ClassVar[dict[str, Constraint]] = {
        "season": Interval(int, 1),
        "residual_days": Interval(int, 1),
    }

    def __init__(self, season: int = 7, residual_days: int = 364) -> None:
        self.season = season
        self.residual_days = residual_days

    def _fit(self, panel: Panel) -> None:
        # Stateless: the panel passed to predict() holds everything needed.
        self.season_ = self.season

    def fitted_empty(self) -> SeasonalNaive:
        """This model marked fitted without data (it needs none): the stand-in for a shard
        that had no series when a sharded model was trained."""
        self.season_ = self.season
        self.n_series_fit_ = 0
        return self

    def _predict(self, panel: Panel, rows: Rows) -> Prediction:
        m = self.season
        y = panel.y
        last = panel.last_history_index
        back = m * -(-rows.horizon // m)
        src = rows.target - back
        point = np.full(len(rows), np.nan)
        ok = src >= 0
        point[ok] = y[rows.series[ok], src[ok]]
        # Series younger than a season, or whose value a season back is unknown (a day
        # excluded as an outlier): the mean of the last season, else of the last quarter.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
            recent = np.nanmean(y[:, max(0, last - m + 1) : last + 1], axis=1)
            quarter = np.nanmean(y[:, max(0, last - 90) : last + 1], axis=1)
        recent = np.where(np.isnan(recent), np.nan_to_num(quarter), recent)
        missing = np.isnan(point)
        point[missing] = recent[rows.series[missing]]
        start = max(m, last - self.residual_days + 1)
        if start > last:  # history shorter than a season and a day: no seasonal difference
            diffs = np.empty((y.shape[0], 0))
        else:
            diffs = y[:, start : last + 1] - y[:, start - m : last + 1 - m]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # series without differences
            qs = np.nanquantile(diffs, [0.1, 0.5, 0.9], axis=1) if diffs.shape[1] else None
        if qs is None:
            qs = np.full((3, y.shape[0]), np.nan)
        s = rows.series
        p10, p50, p90 = (point + qs[k, s] for k in range(3))
        # Without a seasonal difference to learn from (a shop or series younger than a
        # season and a day), demand is taken as Poisson around the point forecast.
        unknown = np.isnan(p10)
        if unknown.any():
            poisson = stats.poisson.ppf([[0.1], [0.5], [0.9]], point[unknown][None, :])
            p10[unknown], p50[unknown], p90[unknown] = np.nan_to_num(poisson)
        return Prediction(point, p10, p50, p90)

    def min_history_days(self) -> int:
        """Any history will do: with less than a season it forecasts the mean so far."""
        return 1
