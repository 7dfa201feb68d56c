"""Global gradient boosting (scikit-learn ``HistGradientBoostingRegressor``)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from forecasting.features.direct import FeatureMatrix
from forecasting.features.spec import FeatureSpec
from forecasting.models.direct import DirectForecaster

__all__ = ["GradientBoostingForecaster"]

_CATEGORICAL = ("cal_dayofweek", "cal_month")


class GradientBoostingForecaster(DirectForecaster):
    """Pooled direct model: one booster for the point forecast and one per quantile.

    The point model minimises ``point_loss`` (Poisson by default: demand is a count and
    the expected value is what RMSSE rewards); P10/P50/P90 come from boosters with the
    pinball (quantile) loss. Targets are demand divided by the series scale.

    Args:
        horizon, features, origin_stride, max_origins, max_rows, active_days, random_state:
            See :class:`~forecasting.models.direct.DirectForecaster`.
        max_iter: Boosting iterations per booster.
        learning_rate: Shrinkage.
        max_leaf_nodes: Leaves per tree.
        min_samples_leaf: Minimum rows per leaf.
        l2_regularization: L2 penalty on leaf values.
        point_loss: ``"poisson"`` or ``"squared_error"``.
    """

    family: ClassVar[str] = "hgb"

    def __init__(
        self,
        horizon: int = 28,
        features: FeatureSpec | None = None,
        origin_stride: int = 3,
        max_origins: int = 120,
        max_rows: int | None = 600_000,
        active_days: int | None = None,
        random_state: int = 42,
        max_iter: int = 300,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 63,
        min_samples_leaf: int = 200,
        l2_regularization: float = 1.0,
        point_loss: str = "poisson",
    ) -> None:
        self.horizon = horizon
        self.features = features
        self.origin_stride = origin_stride
        self.max_origins = max_origins
        self.max_rows = max_rows
        self.active_days = active_days
        self.random_state = random_state
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.point_loss = point_loss

    def _booster(
        self, loss: str, quantile: float | None, categorical: list[int]
    ) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            loss=loss,
            quantile=quantile,
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features=categorical or None,
            early_stopping=False,
            random_state=self.random_state,
        )

    def _fit_matrix(self, fm: FeatureMatrix, target: np.ndarray) -> None:
        if self.point_loss not in ("poisson", "squared_error"):
            raise ValueError(
                f"point_loss must be 'poisson' or 'squared_error', not {self.point_loss!r}"
            )
        # Features that are never known (e.g. last year's demand in a short history) carry
        # nothing and break the binning; keep the others.
        self.columns_ = np.flatnonzero(~np.isnan(fm.X).all(axis=0))
        names = [fm.names[i] for i in self.columns_]
        categorical = [names.index(c) for c in _CATEGORICAL if c in names]
        X = self._matrix(fm.X, categorical)
        self.point_model_ = self._booster(self.point_loss, None, categorical).fit(X, target)
        self.quantile_models_ = [
            self._booster("quantile", q, categorical).fit(X, target) for q in (0.1, 0.5, 0.9)
        ]
        self.categorical_ = categorical

    def _matrix(self, X: np.ndarray, categorical: list[int]) -> np.ndarray:
        X = X[:, self.columns_]
        for c in categorical:  # categories must be non-negative ints: weekday 0-6, month 1-12
            X[:, c] = np.nan_to_num(X[:, c], nan=0.0)
        return X

    def _predict_matrix(self, fm: FeatureMatrix) -> np.ndarray:
        X = self._matrix(fm.X, self.categorical_)
        cols = [self.point_model_.predict(X)] + [m.predict(X) for m in self.quantile_models_]
        return np.column_stack(cols)
