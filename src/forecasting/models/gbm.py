"""Global gradient boosting (scikit-learn ``HistGradientBoostingRegressor``)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from forecasting.features.direct import FeatureMatrix
from forecasting.features.spec import FeatureSpec
from forecasting.models.direct import DirectForecaster
from forecasting.models.distributions import fit_dispersion, nbinom_quantiles
from forecasting.models.params import Constraint, Interval, OneOf

__all__ = ["GradientBoostingForecaster"]

_CATEGORICAL = ("cal_dayofweek", "cal_month")


class GradientBoostingForecaster(DirectForecaster):
    """Pooled direct model: a booster for the expected demand, plus quantiles.

    The point model minimises ``point_loss`` (Poisson by default: demand is a count and
    the expected value is what RMSSE rewards). Targets are demand divided by the series
    scale. Quantiles come from one of:

    * ``"nbinom"`` (default): a negative binomial around the point forecast whose
      dispersion is estimated per series from the in-sample residuals (shrunk towards the
      pooled dispersion). Demand is a count; this gives integer, mutually consistent
      quantiles and costs no extra booster.
    * ``"boosted"``: one more booster per quantile with the pinball loss (four times the
      training time).

    Args:
        horizon, features, origin_stride, max_origins, max_rows, active_days,
        recency_halflife, random_state:
            See :class:`~forecasting.models.direct.DirectForecaster`.
        max_iter: Boosting iterations per booster.
        learning_rate: Shrinkage.
        max_leaf_nodes: Leaves per tree.
        min_samples_leaf: Minimum rows per leaf.
        l2_regularization: L2 penalty on leaf values.
        point_loss: ``"poisson"`` or ``"squared_error"``.
        target_clip: Normalised targets above this are clipped while fitting, and
            normalised predictions too: a one-off bulk order 500 times a slow mover's usual
            demand is not something to learn to expect.
        quantile_method: ``"nbinom"`` or ``"boosted"``.
        dispersion_prior_rows: Rows of pooled evidence a series' own dispersion is shrunk
            with (``"nbinom"`` only).
    """

    family: ClassVar[str] = "hgb"
    param_constraints: ClassVar[dict[str, Constraint]] = {
        **DirectForecaster.param_constraints,
        "max_iter": Interval(int, 1),
        "learning_rate": Interval(float, 0, low_open=True),
        "max_leaf_nodes": Interval(int, 2, none=True),
        "min_samples_leaf": Interval(int, 1),
        "l2_regularization": Interval(float, 0),
        "point_loss": OneOf(("poisson", "squared_error")),
        "target_clip": Interval(float, 0, low_open=True),
        "quantile_method": OneOf(("nbinom", "boosted")),
        "dispersion_prior_rows": Interval(float, 0),
    }

    def __init__(
        self,
        horizon: int = 28,
        features: FeatureSpec | None = None,
        origin_stride: int = 3,
        max_origins: int = 120,
        max_rows: int | None = 300_000,
        active_days: int | None = None,
        recency_halflife: float | None = None,
        random_state: int = 42,
        max_iter: int = 200,
        learning_rate: float = 0.08,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 500,
        l2_regularization: float = 1.0,
        point_loss: str = "poisson",
        target_clip: float = 50.0,
        quantile_method: str = "nbinom",
        dispersion_prior_rows: int = 50,
    ) -> None:
        self.horizon = horizon
        self.features = features
        self.origin_stride = origin_stride
        self.max_origins = max_origins
        self.max_rows = max_rows
        self.active_days = active_days
        self.recency_halflife = recency_halflife
        self.random_state = random_state
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.point_loss = point_loss
        self.target_clip = target_clip
        self.quantile_method = quantile_method
        self.dispersion_prior_rows = dispersion_prior_rows

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

    def _fit_matrix(self, fm: FeatureMatrix, target: np.ndarray, weight: np.ndarray | None) -> None:
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
        self.categorical_ = categorical
        target = np.minimum(target, self.target_clip)
        self.point_model_ = self._booster(self.point_loss, None, categorical).fit(
            X, target, sample_weight=weight
        )
        if self.quantile_method == "boosted":
            self.quantile_models_ = [
                self._booster("quantile", q, categorical).fit(X, target, sample_weight=weight)
                for q in (0.1, 0.5, 0.9)
            ]
        else:
            mean = np.clip(self.point_model_.predict(X), 0.0, self.target_clip) * fm.scale
            self.dispersion_ = fit_dispersion(
                fm.series_ids, target * fm.scale, mean, self.dispersion_prior_rows
            )

    def _matrix(self, X: np.ndarray, categorical: list[int]) -> np.ndarray:
        X = X[:, self.columns_]
        for c in categorical:  # categories must be non-negative ints: weekday 0-6, month 1-12
            X[:, c] = np.nan_to_num(X[:, c], nan=0.0)
        return X

    def _predict_matrix(self, fm: FeatureMatrix) -> np.ndarray:
        X = self._matrix(fm.X, self.categorical_)
        with np.errstate(over="ignore"):  # Poisson link: exp of a large raw score
            point = np.clip(self.point_model_.predict(X), 0.0, self.target_clip)
        if self.quantile_method == "boosted":
            return np.column_stack([point] + [m.predict(X) for m in self.quantile_models_])
        mean = point * fm.scale
        phi = self.dispersion_.lookup(fm.series_ids)
        q = nbinom_quantiles(mean, phi, (0.1, 0.5, 0.9))
        return np.column_stack([point, q / fm.scale[:, None]])
