"""Shared machinery of the global direct multi-horizon models.

A :class:`DirectForecaster` learns one mapping from the features of a (series, origin,
horizon) row (see :mod:`forecasting.features.direct`) to the target divided by the series
scale, pooled over all series. Subclasses implement ``_fit_matrix`` / ``_predict_matrix``
on feature matrices; this class builds the rows and converts back to units.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np

from forecasting.errors import InsufficientHistoryError
from forecasting.features.direct import (
    FeatureMatrix,
    Rows,
    build_features,
    training_rows,
)
from forecasting.features.panel import Panel
from forecasting.features.spec import FeatureSpec
from forecasting.models.base import Forecaster, Prediction
from forecasting.models.params import Constraint, InstanceOf, Interval

__all__ = ["DirectForecaster"]

log = logging.getLogger(__name__)


class DirectForecaster(Forecaster):
    """Base for global models over direct multi-horizon features.

    Subclasses take these constructor arguments (plus their own hyperparameters) and
    store them unchanged, per the estimator contract.

    Args:
        horizon: Longest horizon trained for (days).
        features: Feature declaration; ``None`` means :class:`FeatureSpec` defaults.
        origin_stride: Days between training origins.
        max_origins: Number of training origins, going back from the last history day.
        max_rows: Cap on training rows (seeded subsample above it).
        active_days: Train only on rows whose series sold in this many days before the
            origin (``None``: all rows).
        recency_halflife: Weigh training rows by ``0.5 ** (age / halflife)`` where age is
            the days from the row's origin to the last history day (``None``: equal
            weights). Recent origins then count more when demand shifts.
        random_state: Seed for row sampling and the learner.
    """

    uses_exogenous: ClassVar[bool] = True
    param_constraints: ClassVar[dict[str, Constraint]] = {
        "horizon": Interval(int, 1),
        "features": InstanceOf(FeatureSpec),
        "origin_stride": Interval(int, 1),
        "max_origins": Interval(int, 1),
        "max_rows": Interval(int, 1, none=True),
        "active_days": Interval(int, 1, none=True),
        "recency_halflife": Interval(float, 0, low_open=True, none=True),
        "random_state": Interval(int, 0),
    }

    # Attributes every subclass __init__ sets (declared for type checkers).
    horizon: int
    features: FeatureSpec | None
    origin_stride: int
    max_origins: int
    max_rows: int | None
    active_days: int | None
    recency_halflife: float | None
    random_state: int

    def min_history_days(self) -> int:
        """A training origin needs ``scale_window`` days before it (the series' scale) and
        a known target after it."""
        return self.spec_.scale_window + 2

    @property
    def spec_(self) -> FeatureSpec:
        """The feature spec in use."""
        return self.features if self.features is not None else FeatureSpec()

    def _fit(self, panel: Panel) -> None:
        fm, target = training_rows(
            panel,
            self.horizon,
            self.spec_,
            origin_stride=self.origin_stride,
            max_origins=self.max_origins,
            max_rows=self.max_rows,
            active_days=self.active_days,
            seed=self.random_state,
        )
        if len(target) == 0:
            raise InsufficientHistoryError(
                f"{type(self).__name__}: no training rows in {panel.n_history} days of history "
                f"(it needs at least {self.min_history_days()} with demand)"
            )
        log.info("%s: training on %d rows x %d features", type(self).__name__, *fm.X.shape)
        self.feature_names_ = fm.names
        self.n_train_rows_ = len(target)
        weight = np.ones(len(target))
        if self.recency_halflife:
            age = panel.last_history_index - fm.rows.origin
            weight *= 0.5 ** (age / float(self.recency_halflife))
        self._fit_matrix(fm, target, weight / weight.mean())

    def _predict(self, panel: Panel, rows: Rows) -> Prediction:
        if int(rows.horizon.max()) > self.horizon:
            raise ValueError(
                f"trained for horizon {self.horizon}, asked for {int(rows.horizon.max())}"
            )
        fm = build_features(panel, rows, self.spec_)
        has_scale = ~np.isnan(fm.scale)
        out = np.zeros((len(rows), 4))
        if has_scale.any():
            sub = fm.take(has_scale)
            out[has_scale] = self._predict_matrix(sub) * sub.scale[:, None]
        # Series with no demand in the last 364 days: forecast zero.
        return Prediction(out[:, 0], out[:, 1], out[:, 2], out[:, 3])

    # ------------------------------------------------------------------ to implement
    def _fit_matrix(self, fm: FeatureMatrix, target: np.ndarray, weight: np.ndarray | None) -> None:
        raise NotImplementedError

    def _predict_matrix(self, fm: FeatureMatrix) -> np.ndarray:
        """Normalised predictions, shape ``(rows, 4)``: point, P10, P50, P90."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Hyperparameters plus the generated feature names."""
        info = super().describe()
        info["features"] = self.spec_.feature_names()
        return info
