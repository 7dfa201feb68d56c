"""Classic baselines on the direct features: linear regression, optionally with a
logistic "will it sell at all" hurdle for intermittent demand."""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from forecasting.features.direct import FeatureMatrix
from forecasting.features.spec import FeatureSpec
from forecasting.models.direct import DirectForecaster
from forecasting.models.params import Constraint, Interval, OneOf

__all__ = ["LinearForecaster"]

_ONE_HOT = ("cal_dayofweek", "cal_month")
_LEVELS = np.linspace(0.0, 1.0, 201)


class _Design:
    """Imputation (median + missing flags), winsorising, one-hot calendar, standardisation.

    Ratios to a small scale can be extreme for intermittent series; a linear model would
    extrapolate them, so numeric features are clipped to their 0.5-99.5 % training range.
    """

    def __init__(self, fm: FeatureMatrix) -> None:
        self.onehot_idx = [fm.names.index(c) for c in _ONE_HOT if c in fm.names]
        self.numeric_idx = [i for i in range(fm.X.shape[1]) if i not in self.onehot_idx]
        num = fm.X[:, self.numeric_idx]
        with warnings.catch_warnings():  # features never known in a short history
            warnings.simplefilter("ignore", RuntimeWarning)
            self.medians = np.nan_to_num(np.nanmedian(num, axis=0))
        filled = np.where(np.isnan(num), self.medians, num)
        self.low, self.high = np.percentile(filled, [0.5, 99.5], axis=0)
        self.flag_idx = np.flatnonzero(np.isnan(num).any(axis=0))
        self.encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        if self.onehot_idx:
            self.encoder.fit(np.nan_to_num(fm.X[:, self.onehot_idx]))
        self.scaler = StandardScaler().fit(self._raw(fm.X))

    def _raw(self, X: np.ndarray) -> np.ndarray:
        num = X[:, self.numeric_idx]
        missing = np.isnan(num)
        num = np.clip(np.where(missing, self.medians, num), self.low, self.high)
        parts = [num, missing[:, self.flag_idx].astype(float)]
        if self.onehot_idx:
            parts.append(self.encoder.transform(np.nan_to_num(X[:, self.onehot_idx])))
        return np.column_stack(parts)

    def transform(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.scaler.transform(self._raw(X)))


class LinearForecaster(DirectForecaster):
    """Ridge regression on the direct features (targets divided by the series scale).

    Quantiles come from the empirical distribution of training residuals. With
    ``hurdle=True`` the model is two-part: a logistic regression for P(demand > 0) and a
    ridge regression for the size of positive demand; the forecast is their product and
    the quantiles those of the zero-inflated mixture.

    Args:
        horizon, features, origin_stride, max_origins, max_rows, active_days,
        recency_halflife, random_state:
            See :class:`~forecasting.models.direct.DirectForecaster`.
        alpha: Ridge penalty.
        hurdle: Two-part model for intermittent demand.
        C: Inverse regularisation of the logistic part.
        target_clip: Normalised targets above this are clipped while fitting (one-off bulk
            orders would otherwise dominate a squared loss).
    """

    family: ClassVar[str] = "linear"
    param_constraints: ClassVar[dict[str, Constraint]] = {
        **DirectForecaster.param_constraints,
        "alpha": Interval(float, 0),
        "hurdle": OneOf((True, False)),
        "C": Interval(float, 0, low_open=True),
        "target_clip": Interval(float, 0, low_open=True),
    }

    def __init__(
        self,
        horizon: int = 28,
        features: FeatureSpec | None = None,
        origin_stride: int = 3,
        max_origins: int = 120,
        max_rows: int | None = 400_000,
        active_days: int | None = None,
        recency_halflife: float | None = None,
        random_state: int = 42,
        alpha: float = 1.0,
        hurdle: bool = False,
        C: float = 1.0,
        target_clip: float = 20.0,
    ) -> None:
        self.horizon = horizon
        self.features = features
        self.origin_stride = origin_stride
        self.max_origins = max_origins
        self.max_rows = max_rows
        self.active_days = active_days
        self.recency_halflife = recency_halflife
        self.random_state = random_state
        self.alpha = alpha
        self.hurdle = hurdle
        self.C = C
        self.target_clip = target_clip

    def _fit_matrix(self, fm: FeatureMatrix, target: np.ndarray, weight: np.ndarray | None) -> None:
        self.design_ = _Design(fm)
        Z = self.design_.transform(fm.X)
        target = np.minimum(target, self.target_clip)
        if not self.hurdle:
            self.regressor_ = Ridge(alpha=self.alpha).fit(Z, target, sample_weight=weight)
            resid = target - self.regressor_.predict(Z)
            self.residual_quantiles_ = np.quantile(resid, [0.1, 0.5, 0.9])
            return
        positive = target > 0
        # A logistic regression needs both outcomes; a series set that always (or never)
        # sells gets a constant probability instead.
        self.classifier_: LogisticRegression | None = None
        self.p_sale_ = float(positive.mean())
        if 0 < positive.sum() < len(positive):
            self.classifier_ = LogisticRegression(C=self.C, max_iter=500).fit(
                Z, positive, sample_weight=weight
            )
        if not positive.any():  # nothing ever sold: the size model sees the zeros
            positive = np.ones_like(positive)
        w_pos = None if weight is None else weight[positive]
        self.regressor_ = Ridge(alpha=self.alpha).fit(
            Z[positive], target[positive], sample_weight=w_pos
        )
        size = np.maximum(self.regressor_.predict(Z[positive]), 1e-3)
        # Multiplicative size residuals give the quantiles of positive demand.
        self.size_ratio_quantiles_ = np.quantile(target[positive] / size, _LEVELS)

    def _predict_matrix(self, fm: FeatureMatrix) -> np.ndarray:
        Z = self.design_.transform(fm.X)
        if not self.hurdle:
            mean = np.maximum(self.regressor_.predict(Z), 0.0)
            q = mean[:, None] + self.residual_quantiles_[None, :]
            return np.column_stack([mean, np.maximum(q, 0.0)])
        if self.classifier_ is None:
            p_sale = np.full(len(Z), self.p_sale_)
        else:
            p_sale = self.classifier_.predict_proba(Z)[:, 1]
        size = np.maximum(self.regressor_.predict(Z), 1e-3)
        cols = [p_sale * size]
        for level in (0.1, 0.5, 0.9):
            # Mixture quantile: zero with probability 1 - p, else a quantile of the size.
            inner = np.clip((level - (1.0 - p_sale)) / np.maximum(p_sale, 1e-9), 0.0, 1.0)
            ratio = np.interp(inner, _LEVELS, self.size_ratio_quantiles_)
            cols.append(np.where(level <= 1.0 - p_sale, 0.0, size * ratio))
        return np.column_stack(cols)
