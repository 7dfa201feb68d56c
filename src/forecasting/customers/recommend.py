"""Top-10 product recommendations per customer.

Candidates, each fitted on purchases up to a cutoff and asked for the 10 products each
customer is most likely to buy in the 28 days after it:

* ``popularity`` -- what most customers bought in the last 28 days (the same list for all);
* ``repeat`` -- the customer's own purchases, weighted by recency (half-life tuned);
* ``cooccurrence`` -- item-item cosine similarity of customers' purchases, applied to each
  customer's recency-weighted history;
* ``als`` -- matrix factorisation for implicit feedback (``implicit``'s ALS, tuned);
* ``blend`` -- a weighted sum of the above (each normalised per customer), weights tuned.

Hyperparameters and blend weights are chosen on a validation window (purchases between
``run_day - 56`` and ``run_day - 28``); the candidates are then compared on the last 28 days,
which nothing was tuned on. Metrics over customers who bought in the window and before it:
HR@10, precision@10, recall@10, NDCG@10, and the discovery hit rate (a recommended product
the customer had never bought, bought in the window).
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from forecasting.customers.config import RECOMMENDERS
from forecasting.customers.features import LABEL_DAYS, purchases

__all__ = [
    "RECOMMENDERS",
    "Recommender",
    "backtest_recommenders",
    "ranking_metrics",
    "tune_and_fit",
]

log = logging.getLogger(__name__)

K = 10
_NEIGHBOURS = 100
_COMPONENTS = ("repeat", "cooccurrence", "als", "popularity")


@dataclass
class Recommender:
    """One fitted recommender (any candidate); see the module docstring.

    Attributes:
        name: Candidate name.
        params: Its hyperparameters (half-lives, ALS settings, blend weights).
        items: The SKUs it knows (column order of its matrices).
        popularity: Score of each item (recent distinct buyers).
        similarity: Item-item cosine similarity, top neighbours only (sparse).
        item_factors: ALS item factors.
        cutoff: The last day of its training purchases.
    """

    name: str
    params: dict[str, Any]
    items: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    popularity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    similarity: sp.csr_matrix | None = None
    item_factors: np.ndarray | None = None
    regularization: float = 0.1
    cutoff: pd.Timestamp | None = None

    # ------------------------------------------------------------------ fitting
    def fit(self, lines: pd.DataFrame, cutoff: date) -> Recommender:
        """Learn from purchases on or before ``cutoff``."""
        self.cutoff = pd.Timestamp(cutoff)
        bought = purchases(lines.loc[lines["ds"] <= self.cutoff])
        self.items = np.sort(bought["sku"].unique()).astype(object)
        recent = bought.loc[bought["ds"] > self.cutoff - pd.Timedelta(days=LABEL_DAYS)]
        pop = recent.groupby("sku")["customer"].nunique()
        pop_all = bought.groupby("sku")["customer"].nunique()
        # Recent buyers first; all-time buyers break ties (and cover quiet periods).
        self.popularity = pop.reindex(self.items).fillna(0).to_numpy(
            float
        ) + 1e-3 * pop_all.reindex(self.items).fillna(0).to_numpy(float) / max(pop_all.max(), 1)
        needs = {self.name} | (set(_COMPONENTS) if self.name == "blend" else set())
        if "cooccurrence" in needs or "als" in needs:
            _customers, matrix = self._matrix(bought, self.params.get("halflife", 90.0))
            if "cooccurrence" in needs:
                self.similarity = _cosine_neighbours((matrix > 0).astype(np.float32))
            if "als" in needs:
                self.item_factors = _fit_als(matrix, self.params)
                self.regularization = float(self.params.get("regularization", 0.1))
        return self

    def _index(self) -> pd.Index:
        return pd.Index(self.items)

    def _matrix(self, bought: pd.DataFrame, halflife: float) -> tuple[pd.Index, sp.csr_matrix]:
        """Customer x item matrix of recency-weighted purchase counts."""
        assert self.cutoff is not None
        age = (self.cutoff - bought["ds"]).dt.days.to_numpy(float)
        weight = 0.5 ** (age / max(halflife, 1e-6))
        customers = pd.Index(np.sort(bought["customer"].unique()))
        rows = customers.get_indexer(bought["customer"])
        cols = self._index().get_indexer(bought["sku"])
        keep = cols >= 0
        matrix = sp.csr_matrix(
            (weight[keep], (rows[keep], cols[keep])), shape=(len(customers), len(self.items))
        )
        matrix.sum_duplicates()
        return customers, matrix

    # ------------------------------------------------------------------ scoring
    def _component(self, name: str, matrix: sp.csr_matrix) -> np.ndarray:
        n = matrix.shape[0]
        if name == "popularity":
            return np.tile(self.popularity / max(self.popularity.max(), 1e-12), (n, 1))
        if name == "repeat":
            return np.asarray(matrix.todense())
        if name == "cooccurrence":
            assert self.similarity is not None
            return np.asarray((matrix @ self.similarity).todense())
        if name == "als":
            assert self.item_factors is not None
            users = _als_user_factors(matrix, self.item_factors, self.regularization, self.params)
            return users @ self.item_factors.T
        raise ValueError(f"unknown recommender {name!r}; choose from {RECOMMENDERS}")

    def _customer_matrix(
        self, bought: pd.DataFrame, cutoff: pd.Timestamp
    ) -> tuple[pd.Index, sp.csr_matrix]:
        """Customers and their recency-weighted purchases as of ``cutoff``."""
        previous, self.cutoff = self.cutoff, cutoff
        try:
            return self._matrix(bought, self.params.get("halflife", 90.0))
        finally:
            self.cutoff = previous

    def recommend(
        self, lines: pd.DataFrame, cutoff: date | None = None, k: int = K
    ) -> pd.DataFrame:
        """The top ``k`` products of every customer with a purchase up to ``cutoff``
        (default: the fitting cutoff), from their own purchases in ``lines``.

        Returns:
            ``customer, rank (1..k), sku, score``.
        """
        cutoff = pd.Timestamp(cutoff) if cutoff is not None else self.cutoff
        bought = purchases(lines.loc[lines["ds"] <= cutoff])
        customers, matrix = self._customer_matrix(bought, cutoff)
        frames = [
            _top_k(
                self._scores(matrix[start : start + 2000]),
                customers[start : start + 2000],
                self.items,
                k,
            )
            for start in range(0, len(customers), 2000)  # bounded memory for large customer bases
        ]
        if not frames:
            return pd.DataFrame(columns=["customer", "rank", "sku", "score"])
        return pd.concat(frames, ignore_index=True)

    def _scores(self, matrix: sp.csr_matrix) -> np.ndarray:
        tie = 1e-6 * self.popularity / max(self.popularity.max(), 1e-12)
        if self.name != "blend":
            return self._component(self.name, matrix) + tie
        total = np.zeros((matrix.shape[0], len(self.items)))
        for name in _COMPONENTS:
            weight = float(self.params.get("weights", {}).get(name, 0.0))
            if weight:
                part = self._component(name, matrix)
                top = np.abs(part).max(axis=1, keepdims=True)
                total += weight * part / np.where(top > 0, top, 1.0)
        return total + tie


def _cosine_neighbours(binary: sp.csr_matrix, keep: int = _NEIGHBOURS) -> sp.csr_matrix:
    """Item-item cosine similarity, each item's ``keep`` nearest neighbours only."""
    norms = np.sqrt(np.asarray(binary.multiply(binary).sum(axis=0))).ravel()
    inv = sp.diags(1.0 / np.where(norms > 0, norms, 1.0))
    normed = binary @ inv
    sim = (normed.T @ normed).tocsr().astype(np.float32)
    sim.setdiag(0.0)
    sim.eliminate_zeros()
    rows, cols, vals = [], [], []
    for i in range(sim.shape[0]):
        start, stop = sim.indptr[i], sim.indptr[i + 1]
        if stop == start:
            continue
        idx, val = sim.indices[start:stop], sim.data[start:stop]
        if len(val) > keep:
            pick = np.argpartition(-val, keep)[:keep]
            idx, val = idx[pick], val[pick]
        rows.append(np.full(len(idx), i))
        cols.append(idx)
        vals.append(val)
    if not rows:
        return sp.csr_matrix(sim.shape, dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=sim.shape
    )


def _fit_als(matrix: sp.csr_matrix, params: dict[str, Any]) -> np.ndarray:
    """Item factors of implicit ALS on confidence ``alpha x weighted counts``."""
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from implicit.cpu.als import AlternatingLeastSquares

    model = AlternatingLeastSquares(
        factors=int(params.get("factors", 64)),
        regularization=float(params.get("regularization", 0.1)),
        alpha=float(params.get("alpha", 10.0)),
        iterations=int(params.get("iterations", 15)),
        random_state=int(params.get("seed", 42)),
        calculate_training_loss=False,
    )
    model.fit(matrix.tocsr().astype(np.float32), show_progress=False)
    return np.asarray(model.item_factors)


def _als_user_factors(
    matrix: sp.csr_matrix, items: np.ndarray, regularization: float, params: dict[str, Any]
) -> np.ndarray:
    """Users folded in from their histories: the ALS least-squares step for each user."""
    alpha = float(params.get("alpha", 10.0))
    yty = items.T @ items
    out = np.zeros((matrix.shape[0], items.shape[1]))
    eye = regularization * np.eye(items.shape[1])
    for u in range(matrix.shape[0]):
        start, stop = matrix.indptr[u], matrix.indptr[u + 1]
        idx, conf = matrix.indices[start:stop], alpha * matrix.data[start:stop]
        if not len(idx):
            continue
        y = items[idx]
        a = yty + (y.T * conf) @ y + eye
        b = (y.T * (1.0 + conf)).sum(axis=1)
        out[u] = np.linalg.solve(a, b)
    return out


# ---------------------------------------------------------------------- evaluation
def ranking_metrics(
    recs: pd.DataFrame, history: pd.DataFrame, truth: pd.DataFrame
) -> dict[str, float]:
    """HR@10, precision@10, recall@10, NDCG@10 and discovery hit rate.

    Args:
        recs: ``customer, rank, sku``.
        history: Purchases up to the cutoff (``customer, sku``).
        truth: Purchases in the window after it (``customer, sku``).

    Returns:
        Metrics over customers who bought both before and in the window.
    """
    truth = truth[["customer", "sku"]].drop_duplicates()
    known = set(history["customer"])
    truth = truth.loc[truth["customer"].isin(known)]
    wanted = truth.groupby("customer")["sku"].agg(set)
    before = history[["customer", "sku"]].drop_duplicates().groupby("customer")["sku"].agg(set)
    got = recs.loc[recs["customer"].isin(wanted.index)].sort_values(["customer", "rank"])
    lists = got.groupby("customer")["sku"].agg(list)
    discount = 1.0 / np.log2(np.arange(2, K + 2))
    hr, prec, rec, ndcg, disc, n_new = [], [], [], [], [], 0
    for customer, items in wanted.items():
        top = lists.get(customer, [])[:K]
        hits = [s in items for s in top]
        n_hits = sum(hits)
        hr.append(n_hits > 0)
        prec.append(n_hits / K)
        rec.append(n_hits / len(items))
        ideal = discount[: min(len(items), K)].sum()
        ndcg.append(float(np.dot(hits, discount[: len(hits)])) / ideal if ideal else 0.0)
        new = items - before.get(customer, set())
        if new:
            n_new += 1
            disc.append(any(s in new for s in top))
    return {
        "hr_at_10": float(np.mean(hr)) if hr else float("nan"),
        "precision_at_10": float(np.mean(prec)) if prec else float("nan"),
        "recall_at_10": float(np.mean(rec)) if rec else float("nan"),
        "ndcg_at_10": float(np.mean(ndcg)) if ndcg else float("nan"),
        "discovery_hit_rate": float(np.mean(disc)) if disc else float("nan"),
        "customers": float(len(wanted)),
        "customers_with_new_items": float(n_new),
    }


def _window(lines: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    bought = purchases(lines)
    history = bought.loc[bought["ds"] <= cutoff]
    truth = bought.loc[
        (bought["ds"] > cutoff) & (bought["ds"] <= cutoff + pd.Timedelta(days=LABEL_DAYS))
    ]
    return history, truth


def _evaluate(
    name: str, params: dict[str, Any], lines: pd.DataFrame, cutoff: pd.Timestamp
) -> dict[str, float]:
    history, truth = _window(lines, cutoff)
    model = Recommender(name, params).fit(lines, cutoff)
    return ranking_metrics(model.recommend(lines, cutoff), history, truth)


#: Grids searched on the validation window.
GRIDS: dict[str, list[dict[str, Any]]] = {
    "popularity": [{}],
    "repeat": [{"halflife": h} for h in (14.0, 60.0, 180.0, 720.0)],
    "cooccurrence": [{"halflife": h} for h in (30.0, 180.0)],
    "als": [
        {"factors": f, "regularization": r, "alpha": a, "iterations": 15}
        for f, r, a in itertools.product((32, 64), (0.1, 1.0), (5.0, 20.0))
    ],
}
_BLEND_WEIGHTS = (0.0, 0.5, 1.0)


@dataclass
class RecommenderBacktest:
    """Validation (tuning) and test metrics of every candidate."""

    params: dict[str, dict[str, Any]]
    validation: dict[str, dict[str, float]]
    test: dict[str, dict[str, float]]
    seconds: dict[str, float]

    def table(self) -> pd.DataFrame:
        rows = [
            {
                "model": k,
                **self.test[k],
                "validation_ndcg_at_10": self.validation[k]["ndcg_at_10"],
                "seconds": self.seconds[k],
            }
            for k in self.test
        ]
        return pd.DataFrame(rows)


def backtest_recommenders(
    lines: pd.DataFrame,
    run_day: date,
    seed: int = 42,
    candidates: tuple[str, ...] = RECOMMENDERS,
) -> RecommenderBacktest:
    """Tune every candidate on the validation window, then score it on the test window.

    Validation: purchases up to ``run_day - 56`` predict ``(run_day - 56, run_day - 28]``;
    test: purchases up to ``run_day - 28`` predict the last 28 days.
    """
    val_cut = pd.Timestamp(run_day - timedelta(days=2 * LABEL_DAYS))
    test_cut = pd.Timestamp(run_day - timedelta(days=LABEL_DAYS))
    params: dict[str, dict[str, Any]] = {}
    validation: dict[str, dict[str, float]] = {}
    test: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    for name, grid in GRIDS.items():
        if name not in candidates and name not in ("repeat", "als"):
            continue  # the blend needs repeat's and ALS's tuned settings
        started = time.perf_counter()
        scored = [(p, _evaluate(name, {**p, "seed": seed}, lines, val_cut)) for p in grid]
        best, metrics = max(scored, key=lambda pm: np.nan_to_num(pm[1]["ndcg_at_10"]))
        params[name], validation[name] = {**best, "seed": seed}, metrics
        test[name] = _evaluate(name, params[name], lines, test_cut)
        seconds[name] = time.perf_counter() - started
        log.info(
            "recommender %s %s: validation NDCG %.4f, test NDCG %.4f",
            name,
            best,
            metrics["ndcg_at_10"],
            test[name]["ndcg_at_10"],
        )
    if "blend" not in candidates:
        return RecommenderBacktest(params, validation, test, seconds)
    started = time.perf_counter()
    blend_params = _tune_blend(lines, val_cut, params, seed)
    params["blend"] = blend_params
    validation["blend"] = _evaluate("blend", blend_params, lines, val_cut)
    test["blend"] = _evaluate("blend", blend_params, lines, test_cut)
    seconds["blend"] = time.perf_counter() - started
    return RecommenderBacktest(params, validation, test, seconds)


def _tune_blend(
    lines: pd.DataFrame,
    cutoff: pd.Timestamp,
    params: dict[str, dict[str, Any]],
    seed: int,
    max_customers: int = 5000,
) -> dict[str, Any]:
    """Blend weights by grid search on the validation window.

    The components are scored once (for at most ``max_customers`` customers who bought in
    the window); each weighting only recombines them.
    """
    history, truth = _window(lines, cutoff)
    base = {
        "halflife": params["repeat"].get("halflife", 90.0),
        **{k: v for k, v in params["als"].items() if k != "halflife"},
        "seed": seed,
    }
    model = Recommender("blend", {**base, "weights": {}}).fit(lines, cutoff)
    customers, matrix = model._customer_matrix(history, cutoff)
    wanted = np.flatnonzero(customers.isin(truth["customer"].unique()))
    if len(wanted) > max_customers:
        wanted = np.sort(np.random.default_rng(seed).choice(wanted, max_customers, replace=False))
    matrix, customers = matrix[wanted], customers[wanted]
    parts = {}
    for name in _COMPONENTS:
        part = model._component(name, matrix).astype(np.float32)
        top = np.abs(part).max(axis=1, keepdims=True)
        parts[name] = part / np.where(top > 0, top, 1.0)
    tie = (1e-6 * model.popularity / max(model.popularity.max(), 1e-12)).astype(np.float32)
    best, best_ndcg = None, -1.0
    for w in itertools.product(_BLEND_WEIGHTS, repeat=len(_COMPONENTS)):
        if not any(w):
            continue
        total = sum(weight * parts[name] for name, weight in zip(_COMPONENTS, w, strict=True))
        recs = _top_k(np.asarray(total) + tie, customers, model.items)
        ndcg = ranking_metrics(recs, history, truth)["ndcg_at_10"]
        if ndcg > best_ndcg:
            best, best_ndcg = {**base, "weights": dict(zip(_COMPONENTS, w, strict=True))}, ndcg
    assert best is not None
    return best


def _top_k(scores: np.ndarray, customers: pd.Index, items: np.ndarray, k: int = K) -> pd.DataFrame:
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(part, order, axis=1)
    return pd.DataFrame(
        {
            "customer": np.repeat(customers.to_numpy(), k),
            "rank": np.tile(np.arange(1, k + 1), len(top)),
            "sku": items[top.ravel()],
            "score": np.take_along_axis(scores, top, axis=1).ravel(),
        }
    )


def tune_and_fit(
    lines: pd.DataFrame, run_day: date, name: str, params: dict[str, Any]
) -> Recommender:
    """The recommender that gets registered: tuned parameters, fitted on everything up to
    the run's day."""
    return Recommender(name, params).fit(lines, run_day)
