"""The forecaster contract shared by every model.

Forecasters follow scikit-learn's estimator conventions (``__init__`` only stores
hyperparameters, ``fit`` returns ``self``, learned state ends in ``_``, ``get_params``
works) with a forecasting signature in the style of sktime:

* ``fit(panel)`` learns from the panel's history (everything up to its last history day);
* ``predict(panel, horizon)`` forecasts the ``horizon`` days after the last history day.

Public methods validate and delegate to ``_fit`` / ``_predict``. ``predict`` returns the
long forecast frame ``unique_id, ds, horizon, forecast, p10, p50, p90`` where ``forecast``
is the point forecast (expected units) and P10 <= P50 <= P90, all non-negative.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from forecasting.errors import InsufficientHistoryError
from forecasting.features.direct import Rows, scoring_rows
from forecasting.features.panel import Panel
from forecasting.models.params import Constraint, check_constraints

__all__ = ["FORECAST_COLUMNS", "Forecaster", "Prediction", "load_forecaster"]

#: Columns of every forecast frame.
FORECAST_COLUMNS = ("unique_id", "ds", "horizon", "forecast", "p10", "p50", "p90")


@dataclass(frozen=True)
class Prediction:
    """Raw model output for some rows: point forecast and the three quantiles (units)."""

    forecast: np.ndarray
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray

    def clean(self) -> Prediction:
        """Non-negative and P10 <= P50 <= P90 (sorting fixes crossed quantiles).

        A row with a NaN or infinite value becomes NaN throughout: it is never turned into
        zero demand. Scoring refuses such forecasts (naming the series); a backtest
        disqualifies the candidate.
        """
        q = np.column_stack([self.p10, self.p50, self.p90]).astype(float)
        point = np.asarray(self.forecast, dtype=float)
        bad = ~np.isfinite(q).all(axis=1) | ~np.isfinite(point)
        q = np.sort(np.clip(np.where(bad[:, None], 0.0, q), 0.0, None), axis=1)
        point = np.clip(np.where(bad, 0.0, point), 0.0, None)
        q[bad] = np.nan
        point = np.where(bad, np.nan, point)
        return Prediction(point, q[:, 0], q[:, 1], q[:, 2])


class Forecaster(BaseEstimator):
    """Base class: see the module docstring for the contract.

    Subclasses declare capabilities as class attributes and implement ``_fit`` and
    ``_predict``.
    """

    #: Produces P10/P50/P90, not just a point forecast.
    supports_quantiles: ClassVar[bool] = True
    #: Uses price and promotion covariates.
    uses_exogenous: ClassVar[bool] = False
    #: Registry name of the model family (see :mod:`forecasting.models.zoo`).
    family: ClassVar[str] = "base"
    #: Allowed values of the hyperparameters (see :mod:`forecasting.models.params`).
    param_constraints: ClassVar[dict[str, Constraint]] = {}

    def check_params(self, name: str | None = None) -> Self:
        """Check every hyperparameter against :attr:`param_constraints` (what building a
        candidate from the run configuration does, before any data is read).

        Args:
            name: The candidate's name in messages (default: the family).

        Raises:
            ValueError: Naming the model, the parameter, what is allowed and what was given.
        """
        check_constraints(name or self.family, self.get_params(deep=False), self.param_constraints)
        return self

    def fit(self, panel: Panel) -> Self:
        """Learn from the panel's history.

        Args:
            panel: Training panel; demand after ``panel.n_history`` is never read.

        Returns:
            ``self``.

        Raises:
            InsufficientHistoryError: If the panel has no series or less history than
                :meth:`min_history_days`.
        """
        if panel.n_series == 0 or panel.n_history < self.min_history_days():
            raise InsufficientHistoryError(
                f"{type(self).__name__} needs at least {self.min_history_days()} days of "
                f"history to train on; the panel has {panel.n_history}"
            )
        self._fit(panel)
        self.n_series_fit_ = panel.n_series
        return self

    def min_history_days(self) -> int:
        """Days of history this model needs to be fitted (the training plan leaves out a
        candidate that would have fewer; see :mod:`forecasting.training.plan`)."""
        return 2

    def predict(self, panel: Panel, horizon: int, series: np.ndarray | None = None) -> pd.DataFrame:
        """Forecast ``horizon`` days after the panel's last history day.

        Args:
            panel: Panel holding history and at least ``horizon`` future days of covariates.
            horizon: Days to forecast.
            series: Positions of the series to forecast (default: all).

        Returns:
            Frame with :data:`FORECAST_COLUMNS`, one row per series and target day.
        """
        if not hasattr(self, "n_series_fit_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")
        if horizon < 1:
            raise ValueError("horizon must be >= 1")
        rows = scoring_rows(panel, horizon, series=series)
        pred = self._predict(panel, rows).clean()
        return pd.DataFrame(
            {
                "unique_id": panel.ids["unique_id"].to_numpy()[rows.series],
                "ds": panel.dates[rows.target],
                "horizon": rows.horizon,
                "forecast": pred.forecast,
                "p10": pred.p10,
                "p50": pred.p50,
                "p90": pred.p90,
            }
        )

    # --------------------------------------------------------------- to implement
    def _fit(self, panel: Panel) -> None:
        raise NotImplementedError

    def _predict(self, panel: Panel, rows: Rows) -> Prediction:
        raise NotImplementedError

    # --------------------------------------------------------------- persistence
    def save(self, folder: str | Path) -> Path:
        """Save the fitted forecaster into ``folder`` (joblib; subclasses may add files)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, folder / "forecaster.joblib")
        meta = {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "family": self.family,
        }
        (folder / "forecaster.json").write_text(json.dumps(meta, indent=2))
        return folder

    @classmethod
    def _load(cls, folder: Path) -> Forecaster:
        obj = joblib.load(folder / "forecaster.joblib")
        if not isinstance(obj, Forecaster):
            raise TypeError(f"{folder} does not hold a Forecaster")
        return obj

    def describe(self) -> dict[str, Any]:
        """Name, family and hyperparameters, for logs and MLflow params."""
        return {"family": self.family, "params": self.get_params(deep=False)}


def load_forecaster(folder: str | Path) -> Forecaster:
    """Load a forecaster saved with :meth:`Forecaster.save` (any subclass)."""
    import importlib

    folder = Path(folder)
    meta = json.loads((folder / "forecaster.json").read_text())
    module, _, name = meta["class"].rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    return cls._load(folder)
