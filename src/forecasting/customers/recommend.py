"""Top-10 product recommendations per customer.

Candidates, each fitted on purchases up to a cutoff and asked for the 10 products each
customer is most likely to buy in the 28 days after it:

* ``popularity`` -- what most customers bought in the last 28 days (the same list for all);
* ``repeat`` -- the customer's own purchases, weighted by recency (half-life tuned);
* ``cooccurrence`` -- item-item cosine similarity of customers' purchases, applied to each
  customer's recency-weighted history;
* ``als`` -- matrix factorisation for implicit feedback (``implicit``'s ALS, tuned);
* ``blend`` -- a weighted sum of the above (each normalised per customer), weights tuned.

How they are tuned and compared: :mod:`forecasting.customers.recommend_backtest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from forecasting.customers.config import RECOMMENDERS
from forecasting.customers.features import LABEL_DAYS, purchases

__all__ = [
    "COMPONENTS",
    "RECOMMENDERS",
    "K",
    "Recommender",
    "top_k",
]

#: Recommendations per customer.
K = 10
_NEIGHBOURS = 100
#: The candidates a blend combines.
COMPONENTS = ("repeat", "cooccurrence", "als", "popularity")


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
        needs = {self.name} | (set(COMPONENTS) if self.name == "blend" else set())
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
            top_k(
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
        for name in COMPONENTS:
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


def top_k(scores: np.ndarray, customers: pd.Index, items: np.ndarray, k: int = K) -> pd.DataFrame:
    """The ``k`` best-scored items of each customer (a row of ``scores``).

    Returns:
        ``customer, rank (1..k), sku, score``.
    """
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
