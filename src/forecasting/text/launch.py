"""Forecasts for new products (cold start) from the launch curves of similar earlier launches.

A product that has not sold yet, or has sold for fewer than ``min_history_days`` days, has
no history a demand model can extrapolate. What the shop does know is how *earlier*
launches sold, day by day after their first sale, and what the new product is (its text,
category and price). This module turns that into forecasts in the pipeline's forecast
columns.

The model, fitted at a forecast origin on data up to that origin only:

* **Launches** are the series (summed over locations, per SKU) whose first positive sale
  is at least :data:`LAUNCH_GUARD_DAYS` after the panel's first day (earlier "first
  sales" are products that existed before the data starts) and on or before the origin,
  with at least :data:`MIN_OBSERVED_DAYS` days observed since.
* **Shape**: the pooled launch curve ``S[a]``, the mean demand at age ``a`` (days since
  the first sale, 0 = launch day) over the launches observed that far, normalised so the
  first 28 days sum to 1; beyond the first week it is smoothed with a 7-day mean.
* **Level**: a launch's *28-day total* ``T`` is its demand over its first ``m`` observed
  days (at most 28) divided by ``S[0] + ... + S[m-1]``, i.e. the total of its first 28
  days of life, extrapolated along the shape when fewer are observed.
* **Features** of a product: the similarity-weighted mean of ``log1p(T)`` over its ``k``
  nearest text neighbours among earlier launches (weights ``max(sim, 0.01) ** 2``; ``sim``
  the cosine similarity of the unit-length word and character TF-IDF vectors of the
  :class:`~forecasting.text.embedding.TextEmbedding` before its SVD, or with
  ``similarity="embedding"`` of its 32-dimensional vectors: the sparse vectors keep the
  product type, so a new ``JUMBO BAG APPLES`` is nearest to the other jumbo bags rather
  than to anything with apples), the median ``log1p(T)`` of its category's launches (the
  global median where the category has fewer than :data:`MIN_CATEGORY_LAUNCHES`), its log price
  minus the neighbours' weighted mean log price (an elasticity-like term: the fitted
  coefficient is the elasticity), its log price itself, the shop's log demand level at
  its launch minus the neighbours' (the shop grows into Christmas), and the weighted
  ``log1p`` demand over the 28 days before its launch of its ``k`` nearest products of the
  whole catalogue (established products included: there are far more of them).
* **Model**: three linear quantile regressions (levels 0.1, 0.5, 0.9, pinball loss, no
  penalty) of ``log1p(T)`` on those features, fitted on the earlier launches themselves
  (each one's neighbours exclude itself); predictions are clipped to ``[0, the largest
  log1p(T) of any earlier launch]``. With fewer than :data:`MIN_REGRESSION_LAUNCHES`
  earlier launches the median is the neighbours' weighted ``log1p(T)`` alone. The median
  regression is what WAPE rewards: a launch's total is heavy-tailed (a few launches sell
  thousands), and the mean of such a distribution is far from where most launches land.
  The point ``forecast`` therefore equals ``p50``; the quantiles come out of the
  regressions (sorted, so monotone).
* **Young series** (first sale within ``min_history_days`` before the origin) start from
  that prior and update it with what they sold: a gamma prior on ``T`` with mean the
  prior median and shape ``alpha = 1 / sigma**2`` (``sigma`` the log-scale spread implied
  by the P10-P90 regressions) and Poisson sales of mean ``T * (S[0] + ... + S[g])`` give
  the posterior mean ``(alpha + Y) / (alpha / T0 + E)``; all three quantiles are scaled by
  the posterior-to-prior ratio.
* **No earlier launch at all** (every product predates the data, or a young shop's
  every product is young): a planned product's total is the weighted recent demand of its
  nearest products (their last 28 days), with the spread of the catalogue's monthly
  demand; young series keep the registered model's forecast (there is no launch curve to
  put a prior on them).
* **Daily rows**: the median on the day at age ``a`` is ``T_50 * S[a]`` (zero before the
  launch date); a day's units are a count, so P10 and P90 are the Poisson 10 % and 90 %
  quantiles of ``T_10 * S[a]`` and ``T_90 * S[a]`` (a quiet day's P10 is 0). A product
  launched in the catalogue but absent from a location's history is split over locations
  by each location's share of the shop's demand in the 28 days up to the origin.
* **Categories** (:func:`launch_category`): the catalogue's own where it separates
  products, else the description's last word (Online Retail files every product under
  ``product``).

What is *not* tuned on reported windows: ``k``, the price term and the similarity are
hyperparameters (:class:`LaunchParams`) chosen on earlier windows
(:func:`tune_launch_params`); the regressions are refitted at every origin on launches
before it. The thresholds above (28, 7, 5, 30 launches, the 0.01 similarity floor) are
fixed by hand, not tuned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats
from sklearn.linear_model import QuantileRegressor

from forecasting.features.panel import Panel
from forecasting.schema import FORECAST_COLUMNS, SEPARATOR
from forecasting.text.embedding import TextEmbedding

__all__ = [
    "BACKTEST_METRICS",
    "LAUNCH_COLUMNS",
    "LAUNCH_GUARD_DAYS",
    "MIN_CATEGORY_LAUNCHES",
    "MIN_OBSERVED_DAYS",
    "MIN_REGRESSION_LAUNCHES",
    "LaunchCurves",
    "LaunchParams",
    "backtest_launches",
    "first_sale_index",
    "forecast_launches",
    "launch_category",
    "launch_metrics",
    "tune_launch_params",
]

log = logging.getLogger(__name__)

#: Columns of :func:`forecast_launches`: the pipeline's forecast plus days of history.
LAUNCH_COLUMNS = (*FORECAST_COLUMNS, "history_days")
#: A first sale this close to the panel's first day is not a launch (left-censored).
LAUNCH_GUARD_DAYS = 28
#: Days a launch must have been observed for its level to count.
MIN_OBSERVED_DAYS = 7
#: A category needs this many earlier launches for its own median curve.
MIN_CATEGORY_LAUNCHES = 5
#: Earlier launches needed to fit the quantile regressions.
MIN_REGRESSION_LAUNCHES = 30
#: Length of a launch's reference total (days of life).
TOTAL_DAYS = 28
#: Quantile levels of the regressions.
LEVELS = (0.1, 0.5, 0.9)
#: Metric columns of :func:`launch_metrics` (and :func:`backtest_launches`).
BACKTEST_METRICS = ("launches", "wape", "bias", "rmsse", "coverage")
#: Days of shop demand that define the shop's level at a day.
SHOP_DAYS = 28


@dataclass(frozen=True)
class LaunchParams:
    """Hyperparameters of the launch model (tuned on earlier windows only).

    Attributes:
        k: Text neighbours per product.
        price: Whether the log price (and its ratio to the neighbours') are features.
        shop_level: Whether the shop's demand level at launch is a feature.
        catalogue: Whether the recent demand of the ``k`` nearest products of the whole
            catalogue (not only launches) is a feature.
        similarity: How neighbours are found: ``"tfidf"``, the cosine of the embedding's
            own word and character TF-IDF vectors before its SVD (tens of thousands of
            terms: ``LUNCH BAG APPLE DESIGN`` is nearest to the other lunch bags), or
            ``"embedding"``, the cosine of the 32-dimensional embeddings.
    """

    k: int = 20
    price: bool = True
    shop_level: bool = True
    catalogue: bool = True
    similarity: str = "tfidf"


def first_sale_index(y: np.ndarray, origin: int) -> np.ndarray:
    """Index of each row's first positive demand up to ``origin`` (-1 if none)."""
    pos = np.nan_to_num(y[:, : origin + 1]) > 0
    return np.where(pos.any(axis=1), pos.argmax(axis=1), -1)


def launch_category(catalogue: pd.DataFrame) -> pd.Series:
    """The category a launch curve is pooled by, one per catalogue row.

    The catalogue's ``category`` when it separates products (its largest category holds
    under 90 % of them); otherwise (Online Retail: every product is ``product``) the last
    word of the description (``HOLDER``, ``MUG``, ``BAG``): the product type in most
    catalogues' naming, and the only "category" the text itself carries.
    """
    category = catalogue.get("category", pd.Series(np.nan, index=catalogue.index))
    category = category.astype("string")
    shares = category.value_counts(normalize=True)
    if len(shares) and shares.iloc[0] < 0.9:
        return category.fillna("").astype(str)
    text = catalogue.get("description", pd.Series("", index=catalogue.index))
    name = catalogue.get("name", pd.Series("", index=catalogue.index))
    text = text.astype("string").fillna(name.astype("string")).fillna("")
    text = text.astype(str).str.upper().str.strip()
    return text.str.extract(r"([A-Z0-9]+)\W*$", expand=False).fillna("").astype(str)


def _shop_level(total: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Mean daily shop demand over the :data:`SHOP_DAYS` days before each ``day``."""
    csum = np.concatenate([[0.0], np.cumsum(total)])
    hi = np.clip(day, 1, len(total))
    lo = np.clip(hi - SHOP_DAYS, 0, None)
    return (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1) + 1e-9


@dataclass
class LaunchCurves:
    """Launch curves and the quantile model, fitted at one origin.

    Attributes:
        params: Hyperparameters.
        shape_: Pooled launch shape ``S[a]`` for ages ``0..len-1`` (first 28 sum to 1).
        log_total_: ``log1p`` of each earlier launch's 28-day total.
        vectors_: Their text embeddings.
        tfidf_: Their unit-length TF-IDF vectors (sparse; ``None`` unless
            ``params.similarity == "tfidf"``).
        log_price_: Their log prices.
        log_shop_: Log shop level at their launch.
        category_: Their launch categories.
        skus_: Their SKUs.
        category_median_: Median ``log1p(T)`` per category with enough launches.
        global_median_: Median ``log1p(T)`` of all earlier launches.
        quantiles_: ``log1p(T)`` quantiles of all earlier launches at :data:`LEVELS`.
        models_: One fitted quantile regression per level (``None``: fewer than
            :data:`MIN_REGRESSION_LAUNCHES` launches; then the median is the neighbours'
            weighted ``log1p(T)`` and the other levels keep all launches' spread).
        shop_now_: Log shop level at the origin.
        all_skus_: SKUs that sold by the origin (any launch date).
        all_first_: Their first sale's day index.
        all_vectors_: Their text embeddings.
        all_tfidf_: Their TF-IDF vectors (as ``tfidf_``).
        cum_: Their cumulative demand, ``(len(all_skus_), origin + 2)``, 0 first.
        launch_day_: First sale day index of each earlier launch.
        origin_: The origin the model was fitted at.
    """

    params: LaunchParams = field(default_factory=LaunchParams)
    shape_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    log_total_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    vectors_: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    tfidf_: sparse.csr_matrix | None = None
    log_price_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    log_shop_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    category_: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    skus_: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    category_median_: dict[str, float] = field(default_factory=dict)
    global_median_: float = 0.0
    quantiles_: np.ndarray = field(default_factory=lambda: np.zeros(len(LEVELS)))
    models_: list[QuantileRegressor] | None = None
    shop_now_: float = 0.0
    all_skus_: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    all_first_: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    all_vectors_: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    all_tfidf_: sparse.csr_matrix | None = None
    cum_: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)))
    launch_day_: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    origin_: int = 0

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        sku_y: np.ndarray,
        skus: np.ndarray,
        catalogue: pd.DataFrame,
        origin: int,
        embedding: TextEmbedding,
        ages: int,
    ) -> LaunchCurves:
        """Learn the curves from SKU-level demand up to ``origin``.

        Args:
            sku_y: Demand per SKU (all locations summed), ``(n_skus, T)``, NaN unknown.
            skus: The SKUs of ``sku_y``'s rows.
            catalogue: Catalogue rows (``sku``, text columns, ``list_price``, ``category``).
            origin: Last day index whose demand may be used.
            embedding: Fitted text model.
            ages: Ages ``0..ages-1`` the shape must cover (at least 29).

        Returns:
            ``self``.
        """
        ages = max(ages, TOTAL_DAYS + 1)
        y = np.nan_to_num(sku_y[:, : origin + 1])
        first = first_sale_index(y, origin)
        observed = origin + 1 - first
        launched = (first >= LAUNCH_GUARD_DAYS) & (observed >= MIN_OBSERVED_DAYS)
        rows = np.flatnonzero(launched)
        self.shop_now_ = float(np.log(_shop_level(y.sum(axis=0), np.array([origin + 1]))[0]))
        # Curves by age: (n_launches, ages), NaN where not yet observed.
        age_idx = first[rows, None] + np.arange(ages)[None, :]
        curves = np.where(age_idx <= origin, y[rows[:, None], np.minimum(age_idx, origin)], np.nan)
        self.shape_ = _pooled_shape(curves, ages)
        m = np.minimum(observed[rows], TOTAL_DAYS)
        cum_shape = np.concatenate([[0.0], np.cumsum(self.shape_)])
        head = np.array([np.nansum(c[:n]) for c, n in zip(curves, m, strict=True)])
        totals = head / np.maximum(cum_shape[m], 1e-6)
        tfidf = self.params.similarity == "tfidf"
        info = _product_info(catalogue, skus[rows], embedding, tfidf)
        self.skus_ = skus[rows]
        self.log_total_ = np.log1p(totals)
        self.vectors_ = info["vectors"]
        self.tfidf_ = info["tfidf"]
        self.log_price_ = info["log_price"]
        self.category_ = info["category"]
        total = y.sum(axis=0)
        self.log_shop_ = np.log(_shop_level(total, first[rows]))
        # Every product that sold: its embedding, first sale and cumulative demand, for
        # the recent demand of a product's nearest neighbours at any day up to the origin.
        sold = np.flatnonzero(first >= 0)
        self.all_skus_ = skus[sold]
        self.all_first_ = first[sold]
        sold_info = _product_info(catalogue, skus[sold], embedding, tfidf)
        self.all_vectors_, self.all_tfidf_ = sold_info["vectors"], sold_info["tfidf"]
        self.cum_ = np.concatenate([np.zeros((len(sold), 1)), np.cumsum(y[sold], axis=1)], axis=1)
        self.launch_day_ = first[rows]
        self.origin_ = origin
        self.global_median_ = float(np.median(self.log_total_)) if len(rows) else 0.0
        self.quantiles_ = (
            np.quantile(self.log_total_, LEVELS) if len(rows) else np.zeros(len(LEVELS))
        )
        if not len(rows) and len(sold):
            # No launch seen (every product predates the data): the spread of what the
            # products sell in a month stands in for the spread of launch totals.
            recent = np.log1p(
                self.cum_[:, -1] - self.cum_[:, max(self.cum_.shape[1] - 1 - SHOP_DAYS, 0)]
            )
            self.global_median_ = float(np.median(recent))
            self.quantiles_ = np.quantile(recent, LEVELS)
        self.category_median_ = {
            str(c): float(np.median(v))
            for c, v in pd.Series(self.log_total_).groupby(self.category_)
            if len(v) >= MIN_CATEGORY_LAUNCHES
        }
        self.models_ = None
        if len(rows) >= MIN_REGRESSION_LAUNCHES:
            features = self._features(
                self.vectors_,
                self.log_price_,
                self.category_,
                self.log_shop_,
                self.skus_,
                self.launch_day_,
                self.tfidf_,
            )
            self.models_ = [
                QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(
                    features, self.log_total_
                )
                for q in LEVELS
            ]
        log.info("launch curves at origin %d: %d earlier launches", origin, len(rows))
        return self

    # ------------------------------------------------------------------ predict
    def category_log_total(self, category: np.ndarray) -> np.ndarray:
        """Median ``log1p(T)`` of each category (the global median where too few)."""
        return np.array([self.category_median_.get(str(c), self.global_median_) for c in category])

    def _features(
        self,
        vectors: np.ndarray,
        log_price: np.ndarray,
        category: np.ndarray,
        log_shop: np.ndarray,
        skus: np.ndarray,
        day: np.ndarray,
        tfidf: sparse.csr_matrix | None = None,
    ) -> np.ndarray:
        """Regression features of products launching at day index ``day``."""
        n = len(vectors)
        if len(self.log_total_) == 0:
            return np.zeros((n, 6))
        sims = _similarity(vectors, self.vectors_, tfidf, self.tfidf_)
        sims[skus[:, None] == self.skus_[None, :]] = -np.inf  # never its own neighbour
        k = min(self.params.k, max(len(self.skus_) - 1, 1))
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        w = np.maximum(np.take_along_axis(sims, top, axis=1), 0.01) ** 2
        w = np.where(np.isfinite(w), w, 0.0)
        w = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
        knn = (w * self.log_total_[top]).sum(axis=1)
        price_ratio = log_price - (w * self.log_price_[top]).sum(axis=1)
        shop_ratio = log_shop - (w * self.log_shop_[top]).sum(axis=1)
        columns = [knn, self.category_log_total(category)]
        columns.append(price_ratio if self.params.price else np.zeros(n))
        columns.append(shop_ratio if self.params.shop_level else np.zeros(n))
        columns.append(log_price if self.params.price else np.zeros(n))
        columns.append(
            self._catalogue_demand(vectors, skus, day, tfidf)
            if self.params.catalogue
            else np.zeros(n)
        )
        return np.column_stack(columns)

    def _catalogue_demand(
        self,
        vectors: np.ndarray,
        skus: np.ndarray,
        day: np.ndarray,
        tfidf: sparse.csr_matrix | None = None,
    ) -> np.ndarray:
        """Similarity-weighted ``log1p`` demand of the ``k`` nearest products that had sold
        before ``day``, over the :data:`SHOP_DAYS` days before it."""
        sims = _similarity(vectors, self.all_vectors_, tfidf, self.all_tfidf_)
        alive = self.all_first_[None, :] < day[:, None]
        sims = np.where(alive & (skus[:, None] != self.all_skus_[None, :]), sims, -np.inf)
        k = min(self.params.k, len(self.all_skus_))
        if k == 0:
            return np.zeros(len(vectors))
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        w = np.maximum(np.take_along_axis(sims, top, axis=1), 0.01) ** 2
        w = np.where(np.isfinite(w), w, 0.0)
        hi = np.clip(day, 0, self.cum_.shape[1] - 1)
        lo = np.clip(hi - SHOP_DAYS, 0, None)
        recent = self.cum_[top, hi[:, None]] - self.cum_[top, lo[:, None]]
        return (w * np.log1p(recent)).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-12)

    def predict_totals(self, products: pd.DataFrame, embedding: TextEmbedding) -> np.ndarray:
        """28-day totals at the quantile levels, ``(len(products), 3)``, monotone, >= 0.

        Args:
            products: Rows with ``sku``, text columns, ``list_price``, ``category``.
            embedding: The fitted text model.
        """
        if len(products) == 0:
            return np.zeros((0, len(LEVELS)))
        info = _product_info(
            products,
            products["sku"].astype(str).to_numpy(),
            embedding,
            self.params.similarity == "tfidf",
        )
        skus = products["sku"].astype(str).to_numpy()
        if len(self.log_total_) == 0 and len(self.all_skus_):
            # No earlier launch to learn from: a new product sells what its nearest
            # products sell now (their last 28 days), with the catalogue's spread.
            level = self._catalogue_demand(
                info["vectors"], skus, np.full(len(products), self.origin_ + 1), info["tfidf"]
            )
            logq = level[:, None] + (self.quantiles_ - self.global_median_)[None, :]
            logq = np.clip(logq, 0.0, None)
        elif len(self.log_total_) == 0:
            logq = np.tile(self.quantiles_, (len(products), 1))
        else:
            x = self._features(
                info["vectors"],
                info["log_price"],
                info["category"],
                np.full(len(products), self.shop_now_),
                products["sku"].astype(str).to_numpy(),
                np.full(len(products), self.origin_ + 1),
                info["tfidf"],
            )
            if self.models_ is None:  # too few launches for a regression: the neighbours
                logq = x[:, :1] + (self.quantiles_ - self.global_median_)[None, :]
            else:
                logq = np.column_stack([m.predict(x) for m in self.models_])
            # A linear model must not extrapolate past what any launch has done.
            logq = np.clip(logq, 0.0, float(self.log_total_.max()))
        logq = np.sort(logq, axis=1)
        return np.clip(np.expm1(logq), 0.0, None)

    @property
    def prior_shape(self) -> float:
        """Gamma shape ``1 / sigma**2`` from the P10-P90 spread (log scale) of launches."""
        spread = float(self.quantiles_[-1] - self.quantiles_[0]) / 2.5631
        return 1.0 / max(spread, 0.1) ** 2


def _pooled_shape(curves: np.ndarray, ages: int) -> np.ndarray:
    """Mean demand at each age over the launches observed that far, first 28 summing to 1."""
    with np.errstate(all="ignore"):
        counts = np.sum(~np.isnan(curves), axis=0)
        mean = np.where(counts > 0, np.nansum(curves, axis=0) / np.maximum(counts, 1), np.nan)
    mean = pd.Series(mean).ffill().fillna(1.0).to_numpy()
    smooth = pd.Series(mean).rolling(7, center=True, min_periods=1).mean().to_numpy()
    shape = np.where(np.arange(ages) < 7, mean, smooth)
    shape = np.maximum(shape, 0.0)
    total = shape[:TOTAL_DAYS].sum()
    return shape / total if total > 0 else np.full(ages, 1.0 / TOTAL_DAYS)


def _similarity(
    vectors: np.ndarray,
    others: np.ndarray,
    tfidf: sparse.csr_matrix | None,
    others_tfidf: sparse.csr_matrix | None,
) -> np.ndarray:
    """Cosine similarities, dense ``(len(vectors), len(others))``: of the TF-IDF vectors
    where both sides have them, else of the embeddings."""
    if tfidf is not None and others_tfidf is not None:
        return np.asarray((tfidf @ others_tfidf.T).toarray(), dtype=float)
    return np.asarray(vectors @ others.T, dtype=float)


def _tfidf(embedding: TextEmbedding, products: pd.DataFrame) -> sparse.csr_matrix:
    """Unit-length TF-IDF vectors (the embedding's word and character blocks, weighted
    equally, before its SVD) of ``products``."""
    return embedding.sparse_vectors(products)


def _product_info(
    products: pd.DataFrame, skus: np.ndarray, embedding: TextEmbedding, tfidf: bool = False
) -> dict[str, Any]:
    """Embeddings, log prices and launch categories of ``skus`` (rows of ``products``),
    and with ``tfidf`` their TF-IDF vectors (``None`` without)."""
    rows = products.drop_duplicates("sku").set_index(
        products.drop_duplicates("sku")["sku"].astype(str)
    )
    rows = rows.reindex(pd.Index(skus, dtype=str))
    rows["sku"] = rows.index
    price = pd.to_numeric(rows.get("list_price"), errors="coerce").to_numpy(float)
    fallback = np.nanmedian(price) if np.isfinite(price).any() else 1.0
    price = np.where(np.isfinite(price) & (price > 0), price, fallback)
    vectors = (
        embedding.transform(rows.reset_index(drop=True))
        if len(rows)
        else np.zeros((0, embedding.dimensions), dtype=np.float32)
    )
    return {
        "vectors": vectors,
        "log_price": np.log(price),
        "category": launch_category(rows.reset_index(drop=True)).to_numpy(),
        "tfidf": _tfidf(embedding, rows.reset_index(drop=True)) if tfidf and len(rows) else None,
    }


def _sku_panel(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """Demand summed over locations per SKU (NaN until a SKU's first known day)."""
    skus = panel.ids["sku"].astype(str).to_numpy()
    codes, uniques = pd.factorize(skus)
    y = np.nan_to_num(panel.y)
    out = np.zeros((len(uniques), y.shape[1]))
    np.add.at(out, codes, y)
    known = np.zeros((len(uniques), y.shape[1]), dtype=bool)
    np.logical_or.at(known, codes, ~np.isnan(panel.y))
    return np.where(known, out, np.nan), np.asarray(uniques, dtype=object).astype(str)


def _daily_rows(
    keys: pd.DataFrame,
    totals: np.ndarray,
    start_age: np.ndarray,
    shape: np.ndarray,
    origin_date: pd.Timestamp,
    horizon: int,
) -> pd.DataFrame:
    """Rows per key and horizon day: quantile ``q`` at age ``a`` is ``T_q * S[a]``."""
    n = len(keys)
    h = np.arange(1, horizon + 1)
    age = start_age[:, None] + h[None, :] - 1
    s = np.where((age >= 0) & (age < len(shape)), shape[np.clip(age, 0, len(shape) - 1)], 0.0)
    q = totals[:, None, :] * s[:, :, None]
    out = pd.DataFrame(
        {
            "unique_id": np.repeat(keys["unique_id"].to_numpy(), horizon),
            "sku": np.repeat(keys["sku"].to_numpy(), horizon),
            "location_id": np.repeat(keys["location_id"].to_numpy(), horizon),
            "ds": np.tile(origin_date + pd.to_timedelta(h, unit="D"), n),
            "horizon": np.tile(h, n),
        }
    )
    flat = q.reshape(n * horizon, len(LEVELS))
    # A day's units are a count around its mean: P10 and P90 are Poisson quantiles of the
    # P10 and P90 levels (so a quiet day's P10 is 0), P50 the median level itself.
    p50 = flat[:, 1]
    p10 = np.minimum(stats.poisson.ppf(LEVELS[0], flat[:, 0]), p50)
    p90 = np.maximum(stats.poisson.ppf(LEVELS[2], flat[:, 2]), p50)
    out["forecast"] = p50
    out["p10"], out["p50"], out["p90"] = p10, p50, p90
    out["history_days"] = np.repeat(keys["history_days"].to_numpy(), horizon)
    return out


def forecast_launches(
    panel: Panel,
    catalogue: pd.DataFrame,
    origin: int,
    horizon: int,
    embedding: TextEmbedding,
    *,
    min_history_days: int = 28,
    launches: pd.DataFrame | None = None,
    params: LaunchParams | None = None,
) -> pd.DataFrame:
    """Forecast new and young products from earlier launches' curves (see module docstring).

    Args:
        panel: The panel; only demand up to ``origin`` is read.
        catalogue: ``sku, name, description, category, list_price, launched_on``
            (``launched_on`` a date or NaT).
        origin: Day index of the forecast origin (the last day of known demand).
        horizon: Days forecast after the origin.
        embedding: Text model fitted on the catalogue (new products are embedded with
            :meth:`TextEmbedding.transform`).
        min_history_days: A panel series whose first positive sale is fewer than this many
            days before the origin is forecast here (``history_days`` = days since it).
        launches: Extra planned launches: ``sku``, ``launched_on`` and any of ``name``,
            ``description``, ``category``, ``list_price``; forecast at every location.
        params: Hyperparameters (default :class:`LaunchParams`).

    Returns:
        :data:`LAUNCH_COLUMNS`: one row per series and day ``origin + 1 .. origin +
        horizon``; zero before a launch date; ``forecast == p50``; ``history_days`` 0 for
        a product without sales.

    Raises:
        ValueError: ``origin`` outside the panel's history or ``catalogue`` lacks ``sku``.
    """
    if not 0 <= origin < panel.n_history:
        raise ValueError(f"origin {origin} outside history [0, {panel.n_history})")
    if "sku" not in catalogue.columns:
        raise ValueError("catalogue lacks column 'sku'")
    params = params or LaunchParams()
    ages = horizon + max(min_history_days, 1) + 1
    sku_y, skus = _sku_panel(panel)
    known = catalogue if launches is None else pd.concat([catalogue, launches], ignore_index=True)
    model = LaunchCurves(params).fit(sku_y, skus, known, origin, embedding, ages)
    locations = panel.ids["location_id"].astype(str).unique()
    share = _location_shares(panel, origin, locations)
    frames = [
        _new_products(
            model, panel, catalogue, launches, origin, horizon, embedding, locations, share
        ),
        _young_series(model, panel, catalogue, origin, horizon, embedding, min_history_days),
    ]
    out = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else pd.DataFrame({c: pd.Series(dtype=float) for c in LAUNCH_COLUMNS})
    )
    out["history_days"] = out["history_days"].astype(int)
    return out.loc[:, list(LAUNCH_COLUMNS)]


def _location_shares(panel: Panel, origin: int, locations: np.ndarray) -> np.ndarray:
    recent = np.nansum(panel.y[:, max(0, origin - SHOP_DAYS + 1) : origin + 1], axis=1)
    by_loc = pd.Series(recent).groupby(panel.ids["location_id"].astype(str).to_numpy()).sum()
    by_loc = by_loc.reindex(locations).fillna(0.0).to_numpy(float)
    total = by_loc.sum()
    return by_loc / total if total > 0 else np.full(len(locations), 1.0 / len(locations))


def _new_products(
    model: LaunchCurves,
    panel: Panel,
    catalogue: pd.DataFrame,
    launches: pd.DataFrame | None,
    origin: int,
    horizon: int,
    embedding: TextEmbedding,
    locations: np.ndarray,
    share: np.ndarray,
) -> pd.DataFrame:
    """Products without a sale by the origin that launch inside the horizon."""
    origin_date = pd.Timestamp(panel.dates[origin])
    end = origin_date + pd.Timedelta(days=horizon)
    sold = set(panel.ids["sku"].astype(str).to_numpy()[first_sale_index(panel.y, origin) >= 0])
    frames = [catalogue]
    if launches is not None and len(launches):
        frames.append(launches)
    products = pd.concat(frames, ignore_index=True)
    products["sku"] = products["sku"].astype(str)
    launched = pd.to_datetime(products.get("launched_on"), errors="coerce").dt.normalize()
    keep = (launched > origin_date) & (launched <= end) & ~products["sku"].isin(sold)
    products = products.loc[keep.to_numpy()].assign(launched_on=launched[keep])
    products = products.drop_duplicates("sku", keep="last").reset_index(drop=True)
    if products.empty:
        return pd.DataFrame()
    totals = model.predict_totals(products, embedding)
    start = (origin_date - products["launched_on"]).dt.days.to_numpy() + 1
    n, n_loc = len(products), len(locations)
    keys = pd.DataFrame(
        {
            "sku": np.repeat(products["sku"].to_numpy(), n_loc),
            "location_id": np.tile(locations, n),
            "history_days": 0,
        }
    )
    keys["unique_id"] = keys["sku"] + SEPARATOR + keys["location_id"]
    loc_totals = np.repeat(totals, n_loc, axis=0) * np.tile(share, n)[:, None]
    return _daily_rows(
        keys, loc_totals, np.repeat(start, n_loc), model.shape_, origin_date, horizon
    )


def _young_series(
    model: LaunchCurves,
    panel: Panel,
    catalogue: pd.DataFrame,
    origin: int,
    horizon: int,
    embedding: TextEmbedding,
    min_history_days: int,
) -> pd.DataFrame:
    """Series whose first positive sale is fewer than ``min_history_days`` before origin.

    None while the model has seen no earlier launch (a young shop: every series is young,
    and without a launch curve their own days say more than any prior).
    """
    if len(model.log_total_) == 0:
        return pd.DataFrame()
    first = first_sale_index(panel.y, origin)
    age = origin - first  # 0 = first sale on the origin day
    rows = np.flatnonzero((first >= 0) & (age < min_history_days))
    if len(rows) == 0:
        return pd.DataFrame()
    ids = panel.ids.iloc[rows].reset_index(drop=True)
    # The prior is SKU-level; each series gets its location's share of it.
    products = catalogue.assign(sku=catalogue["sku"].astype(str))
    missing = sorted(set(ids["sku"].astype(str)) - set(products["sku"]))
    if missing:
        products = pd.concat([products, pd.DataFrame({"sku": missing})], ignore_index=True)
    prior = model.predict_totals(
        products.drop_duplicates("sku").set_index("sku").loc[ids["sku"].astype(str)].reset_index(),
        embedding,
    )
    locations = panel.ids["location_id"].astype(str).unique()
    share = pd.Series(_location_shares(panel, origin, locations), index=locations)
    prior = prior * share.reindex(ids["location_id"].astype(str)).fillna(0.0).to_numpy()[:, None]
    observed = np.array([np.nansum(panel.y[r, first[r] : origin + 1]) for r in rows], dtype=float)
    cum_shape = np.concatenate([[0.0], np.cumsum(model.shape_)])
    exposure = cum_shape[np.minimum(age[rows] + 1, len(model.shape_))]
    alpha = model.prior_shape
    t0 = np.maximum(prior[:, 1], 1e-3)
    posterior = (alpha + observed) / (alpha / t0 + exposure)
    totals = prior * (posterior / t0)[:, None]
    keys = ids.loc[:, ["unique_id", "sku", "location_id"]].assign(history_days=age[rows] + 1)
    start = age[rows] + 1
    return _daily_rows(
        keys, totals, start, model.shape_, pd.Timestamp(panel.dates[origin]), horizon
    )


# ---------------------------------------------------------------------- backtest
def _launch_baselines(model: LaunchCurves, products: pd.DataFrame) -> dict[str, np.ndarray]:
    """28-day totals at the quantile levels of the three baselines."""
    n = len(products)
    category = launch_category(products).to_numpy()
    spread = model.quantiles_ - model.global_median_
    cat = model.category_log_total(category)
    return {
        "zero": np.zeros((n, len(LEVELS))),
        "median_curve": np.tile(np.expm1(model.quantiles_), (n, 1)),
        "category_curve": np.clip(np.expm1(cat[:, None] + spread[None, :]), 0.0, None),
    }


def launch_metrics(frame: pd.DataFrame) -> dict[str, float]:
    """WAPE of launch totals, daily RMSSE and P10-P90 coverage of one method's rows.

    Args:
        frame: Daily rows ``sku, ds, y, forecast, p10, p90`` of launches, from each
            launch day to the window's end.

    Returns:
        ``launches``, ``wape`` (sum over launches of |total forecast - total actual| /
        sum of actual totals), ``rmsse`` (mean over launches of the RMSE divided by the
        root mean squared one-step difference of the launch's own actuals in the window:
        a new product has no history to scale by; launches with constant actuals are left
        out), ``coverage`` (daily share of P10 <= y <= P90) and ``bias``.
    """
    g = frame.groupby("sku", sort=False)
    totals = g[["y", "forecast"]].sum()
    actual = totals["y"].sum()
    err = (frame["y"] - frame["forecast"]) ** 2
    mse = err.groupby(frame["sku"], sort=False).mean()
    diff = frame.groupby("sku", sort=False)["y"].diff()
    scale = (diff**2).groupby(frame["sku"], sort=False).mean()
    ok = scale > 0
    covered = (frame["y"] >= frame["p10"]) & (frame["y"] <= frame["p90"])
    return {
        "launches": float(len(totals)),
        "wape": float((totals["forecast"] - totals["y"]).abs().sum() / actual)
        if actual > 0
        else float("nan"),
        "bias": float((totals["forecast"].sum() - actual) / actual) if actual > 0 else 0.0,
        "rmsse": float(np.sqrt(mse[ok] / scale[ok]).mean()) if ok.any() else float("nan"),
        "coverage": float(covered.mean()) if len(frame) else float("nan"),
    }


def _window_frames(
    panel: Panel,
    catalogue: pd.DataFrame,
    cutoff: int,
    horizon: int,
    embedding: TextEmbedding,
    params: LaunchParams,
) -> dict[str, pd.DataFrame]:
    """Per method, the daily rows of the window's launches (from launch day on), with ``y``."""
    sku_y, skus = _sku_panel(panel)
    last = min(cutoff + horizon, panel.n_history - 1)
    first = first_sale_index(sku_y, last)
    inside = np.flatnonzero(first > cutoff)
    if len(inside) == 0:
        return {}
    dates = panel.dates
    truth_dates = pd.Series(dates[first[inside]], index=skus[inside])
    cat = catalogue.assign(sku=catalogue["sku"].astype(str)).drop_duplicates("sku")
    # Known in advance: text, category, price and the launch date, nothing else.
    planned = cat.assign(launched_on=pd.NaT).set_index("sku")
    planned.loc[truth_dates.index.intersection(planned.index), "launched_on"] = truth_dates
    cat = cat.set_index("sku").reindex(skus[inside]).reset_index(names="sku")
    cat["launched_on"] = truth_dates.to_numpy()
    ours = forecast_launches(
        panel.truncate(cutoff),
        planned.reset_index(),
        cutoff,
        horizon,
        embedding,
        launches=cat.loc[~cat["sku"].isin(planned.index)],
        params=params,
        min_history_days=0,
    )
    ours = ours.groupby(["sku", "ds"], as_index=False)[["forecast", "p10", "p50", "p90"]].sum()
    model = LaunchCurves(params).fit(sku_y, skus, catalogue, cutoff, embedding, horizon + 1)
    start = (dates[cutoff] - pd.to_datetime(cat["launched_on"])).dt.days.to_numpy() + 1
    keys = pd.DataFrame(
        {"unique_id": cat["sku"], "sku": cat["sku"], "location_id": "", "history_days": 0}
    )
    frames = {"ours": ours}
    for name, totals in _launch_baselines(model, cat).items():
        frames[name] = _daily_rows(
            keys, totals, start, model.shape_, pd.Timestamp(dates[cutoff]), horizon
        )
    actual = pd.DataFrame(
        {
            "sku": np.repeat(skus[inside], horizon),
            "ds": np.tile(dates[cutoff + 1 : cutoff + horizon + 1], len(inside)),
            "y": np.nan_to_num(sku_y[inside, cutoff + 1 : cutoff + horizon + 1]).ravel(),
        }
    )
    launch_day = pd.Series(truth_dates.to_numpy(), index=skus[inside])
    actual = actual.loc[actual["ds"].to_numpy() >= launch_day.reindex(actual["sku"]).to_numpy()]
    actual = actual.loc[actual["ds"] <= dates[last]]
    return {
        name: actual.merge(
            f[["sku", "ds", "forecast", "p10", "p50", "p90"]], on=["sku", "ds"], how="left"
        ).fillna(0.0)
        for name, f in frames.items()
    }


def backtest_launches(
    panel: Panel,
    catalogue: pd.DataFrame,
    cutoffs: list[int],
    horizon: int,
    embedding: TextEmbedding,
    *,
    params: LaunchParams | None = None,
    tuned_on: int = 0,
) -> pd.DataFrame:
    """Forecast each window's launches as known in advance and score them vs baselines.

    On every window (origin = cutoff), the SKUs whose first positive sale is in
    ``(cutoff, cutoff + horizon]`` are forecast from their text, category, price and
    launch date alone (:func:`forecast_launches` on the panel truncated at the cutoff),
    next to three baselines built from the launches before the cutoff: ``zero``,
    ``median_curve`` (the median 28-day total of all earlier launches, P10/P90 their
    10th/90th percentiles, spread along the pooled shape) and ``category_curve`` (the
    same per :func:`launch_category`, the median curve where a category has fewer than
    :data:`MIN_CATEGORY_LAUNCHES` earlier launches).

    Args:
        panel: The whole panel (actuals after each cutoff score the window).
        catalogue: See :func:`forecast_launches`.
        cutoffs: Window origins (day indices).
        horizon: Window length in days.
        embedding: Fitted text model.
        params: Hyperparameters.
        tuned_on: How many of the first ``cutoffs`` were used to choose ``params``: their
            rows say ``split == "tuning"``, the rest ``"reported"``.

    Returns:
        One row per window and method plus an ``all`` row per split and method (pooled
        over its windows): ``split, window, cutoff, method`` and :func:`launch_metrics`.
    """
    params = params or LaunchParams()
    rows: list[dict[str, object]] = []
    pooled: dict[tuple[str, str], list[pd.DataFrame]] = {}
    for i, cutoff in enumerate(cutoffs):
        split = "tuning" if i < tuned_on else "reported"
        frames = _window_frames(panel, catalogue, cutoff, horizon, embedding, params)
        for method, frame in frames.items():
            frame = frame.assign(sku=frame["sku"] + f"#{i}")
            pooled.setdefault((split, method), []).append(frame)
            rows.append(
                {
                    "split": split,
                    "window": str(i),
                    "cutoff": str(pd.Timestamp(panel.dates[cutoff]).date()),
                    "method": method,
                    **launch_metrics(frame),
                }
            )
    for (split, method), frames_ in pooled.items():
        rows.append(
            {
                "split": split,
                "window": "all",
                "cutoff": "",
                "method": method,
                **launch_metrics(pd.concat(frames_, ignore_index=True)),
            }
        )
    columns = ["split", "window", "cutoff", "method", *BACKTEST_METRICS]
    return pd.DataFrame(rows, columns=columns)


def tune_launch_params(
    panel: Panel,
    catalogue: pd.DataFrame,
    cutoffs: list[int],
    horizon: int,
    embedding: TextEmbedding,
    grid: list[LaunchParams] | None = None,
) -> LaunchParams:
    """The :class:`LaunchParams` with the lowest pooled launch-total WAPE on ``cutoffs``.

    Pass tuning windows only: the reported windows must not see this choice.
    """
    grid = grid or [
        replace(LaunchParams(), k=k, price=price)
        for k in (5, 10, 20, 40)
        for price in (True, False)
    ]
    best, best_wape = grid[0], np.inf
    for params in grid:
        table = backtest_launches(panel, catalogue, cutoffs, horizon, embedding, params=params)
        row = table.loc[(table["window"] == "all") & (table["method"] == "ours")]
        wape = float(row["wape"].iloc[0]) if len(row) else np.inf
        wape = wape if np.isfinite(wape) else np.inf
        log.info("launch params %s: tuning WAPE %.4f", params, wape)
        if wape < best_wape:
            best, best_wape = params, wape
    return best
