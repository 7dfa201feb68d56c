"""Top-10 product recommendations per customer.

Candidates, each fitted on purchases up to a cutoff and asked for the 10 products each
customer is most likely to buy in the 28 days after it:

* ``popularity`` -- what most customers bought in the last 28 days (the same list for all);
* ``repeat`` -- the customer's own purchases, weighted by recency (half-life tuned);
* ``cooccurrence`` -- item-item cosine similarity of customers' purchases, applied to each
  customer's recency-weighted history;
* ``als`` -- matrix factorisation for implicit feedback (``implicit``'s ALS, tuned);
* ``content`` -- products whose text (name, description, category;
  :class:`~forecasting.text.embedding.TextEmbedding`, fitted on the catalogue) is close to
  what the customer bought: each bought product's ``neighbours`` nearest products by cosine
  similarity of their embeddings, summed with the customer's recency weights (as
  co-occurrence is, with text instead of baskets); products they already bought are left
  out (it is for discovery). Summing neighbours rather than comparing with the mean of the
  history's embeddings matters: a history of 50 different products averages to a
  featureless vector (new-item hit rate 0.09 against 0.18 on the validation window);
* ``session`` -- (with web events) the products the customer viewed, wishlisted or added
  to the cart in the last :data:`SESSION_DAYS` days and has not bought since, each event
  weighted by its recency (half-life tuned; a cart add counts ``cart_weight`` views);
* ``sequence`` -- (with web events) a small GRU over the customer's last events and
  purchases predicting the next purchased product
  (:class:`~forecasting.customers.sequence.SequenceModel`);
* ``blend`` -- a weighted sum of repeat, co-occurrence, ALS and popularity, and with events
  of session and sequence (each normalised per customer), weights tuned, with some of the
  10 ranks reserved for products new to the customer (``discovery_slots``, or a number per
  group of customers: ``discovery_groups``).

Discovery slots: the blend fills ranks ``1..K - N`` with its own best products (bought
before or not) and ranks ``K - N + 1..K`` with the best products the customer has never
bought and that are not already in the list, scored by a second weighted sum,
``discovery_weights`` over :data:`DISCOVERY` (content, co-occurrence, ALS, popularity and
with events session, each restricted to products new to the customer and normalised per customer). With
``discovery_groups`` (``{"edges": [...], "slots": [...]}``), ``N`` depends on the customer's
:func:`repeat_strength` (the recency-weighted count of their strongest product): customers
below ``edges[0]`` get ``slots[0]``, and so on; a weak repeat list's last ranks are rarely
bought, so a slot there costs little. Without it, ``N = discovery_slots`` for everyone.
``N`` (or the groups) and both sets of weights are tuned on the validation window only.

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
from forecasting.customers.sequence import SequenceModel
from forecasting.text.embedding import TextEmbedding

__all__ = [
    "COMPONENTS",
    "DISCOVERY",
    "EVENT_COMPONENTS",
    "RECOMMENDERS",
    "SESSION_DAYS",
    "K",
    "Recommender",
    "normalised",
    "repeat_strength",
    "session_matrix",
    "slotted_positions",
    "slotted_top_k",
    "top_k",
    "top_positions",
]

#: Recommendations per customer.
K = 10
_NEIGHBOURS = 100
#: The candidates a blend combines.
COMPONENTS = ("repeat", "cooccurrence", "als", "popularity")
#: The candidates built on web events (a blend weighs them only when events exist).
EVENT_COMPONENTS = ("session", "sequence")
#: The scorers that fill a blend's discovery slots (each restricted to new products).
DISCOVERY = ("content", "cooccurrence", "als", "popularity", "session")
#: Days of web events the ``session`` candidate looks back over.
SESSION_DAYS = 28
#: Weight of each event type in the ``session`` candidate (a cart add: ``cart_weight``).
_SESSION_KINDS = {"view": 1.0, "wishlist": 1.0, "cart_add": 1.0}
#: Score of a product the ``content`` candidate leaves out (below any other score).
_EXCLUDED = -1.0
#: Text neighbours per product of the ``content`` candidate (default; tuned).
_TEXT_NEIGHBOURS = 10


@dataclass
class Recommender:
    """One fitted recommender (any candidate); see the module docstring.

    Attributes:
        name: Candidate name.
        params: Its hyperparameters (half-lives, ALS settings, blend weights, and for the
            blend ``discovery_slots``, ``discovery_weights`` and ``discovery_groups``).
        items: The SKUs it knows (column order of its matrices).
        popularity: Score of each item (recent distinct buyers).
        similarity: Item-item cosine similarity, top neighbours only (sparse).
        item_factors: ALS item factors.
        text: The catalogue's text model (``content``, and a blend whose discovery slots
            use it); saved with the recommender.
        item_vectors: Unit text embedding of each item (rows aligned with ``items``).
        text_similarity: Item-item cosine similarity of the embeddings, each item's
            ``neighbours`` nearest only (sparse).
        cutoff: The last day of its training purchases.
        sequence: The fitted sequence model (``sequence``, and a blend that weighs it).
    """

    name: str
    params: dict[str, Any]
    items: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    popularity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    similarity: sp.csr_matrix | None = None
    item_factors: np.ndarray | None = None
    regularization: float = 0.1
    text: TextEmbedding | None = None
    item_vectors: np.ndarray | None = None
    text_similarity: sp.csr_matrix | None = None
    cutoff: pd.Timestamp | None = None
    sequence: SequenceModel | None = None

    @property
    def discovery_slots(self) -> int:
        """Ranks of the top ``K`` reserved for products new to the customer (blend only;
        with ``discovery_groups``, the most any group gets)."""
        if self.name != "blend":
            return 0
        groups = self.params.get("discovery_groups")
        if groups:
            return int(max(groups["slots"]))
        return int(self.params.get("discovery_slots", 0))

    def slots_of(self, matrix: sp.csr_matrix) -> np.ndarray:
        """Discovery slots of each customer (row of ``matrix``): by group of
        :func:`repeat_strength` with ``discovery_groups``, else ``discovery_slots`` for all."""
        groups = self.params.get("discovery_groups") if self.name == "blend" else None
        if not groups:
            return np.full(matrix.shape[0], self.discovery_slots, dtype=np.int64)
        group = np.searchsorted(np.asarray(groups["edges"], float), repeat_strength(matrix))
        return np.asarray(groups["slots"], dtype=np.int64)[group]

    def needs(self) -> set[str]:
        """The candidates this recommender scores with."""
        if self.name != "blend":
            return {self.name}
        weights = self.params.get("weights", {})
        used = {n for n in (*COMPONENTS, *EVENT_COMPONENTS) if weights.get(n, 0.0)}
        if self.discovery_slots:
            weights = self.params.get("discovery_weights", {})
            used |= {n for n in DISCOVERY if weights.get(n, 0.0)}
        return used

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        lines: pd.DataFrame,
        cutoff: date,
        text: TextEmbedding | None = None,
        events: pd.DataFrame | None = None,
    ) -> Recommender:
        """Learn from purchases on or before ``cutoff``.

        Args:
            lines: Customer lines (:data:`~forecasting.customers.features.LINE_COLUMNS`).
            cutoff: The last day it may learn from.
            text: The catalogue's fitted text model; required by ``content`` (and a blend
                whose discovery slots use it), kept by a blend, ignored by the others.
                SKUs it does not know get no content score.
            events: The customers' web events
                (:data:`~forecasting.behaviour.events.CUSTOMER_COLUMNS`): the sequence
                model learns from them (``session`` needs them only to recommend).

        Raises:
            ValueError: If ``content`` is needed and ``text`` is missing.
        """
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
        needs = self.needs() | (set(COMPONENTS) if self.name == "blend" else set())
        if text is not None and ("content" in needs or self.name == "blend"):
            self.text, self.item_vectors = text, text.vectors_of(self.items)
            keep = int(self.params.get("neighbours", _TEXT_NEIGHBOURS))
            self.text_similarity = _text_neighbours(self.item_vectors, keep)
        elif "content" in needs:
            raise ValueError(
                f"recommender {self.name!r} uses the content candidate: pass the "
                "catalogue's text model (TextEmbedding.fit(products))"
            )
        if "sequence" in needs:
            self.sequence = SequenceModel(
                length=int(self.params.get("length", 10)),
                epochs=int(self.params.get("epochs", 3)),
                seed=int(self.params.get("seed", 42)),
            ).fit(lines, events, self.cutoff)
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
    def event_scores(
        self,
        lines: pd.DataFrame,
        events: pd.DataFrame | None,
        cutoff: pd.Timestamp,
        customers: pd.Index,
        names: set[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """The event candidates' scores (customers x items) it needs (or ``names``).

        Without events the session scores are 0; the sequence model still reads the
        purchases."""
        names = self.needs() & set(EVENT_COMPONENTS) if names is None else names
        out: dict[str, np.ndarray] = {}
        if "session" in names:
            out["session"] = np.asarray(
                session_matrix(
                    events,
                    lines,
                    cutoff,
                    customers,
                    self.items,
                    float(self.params.get("session_halflife", 7.0)),
                    float(self.params.get("cart_weight", 3.0)),
                ).todense()
            )
        if "sequence" in names:
            if self.sequence is None:
                out["sequence"] = np.zeros((len(customers), len(self.items)))
            else:
                out["sequence"] = self.sequence.scores(
                    lines, events, cutoff, customers, self.items
                ).astype(float)
        return out

    def _component(
        self, name: str, matrix: sp.csr_matrix, context: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        n = matrix.shape[0]
        if name in EVENT_COMPONENTS:
            if context is None or name not in context:
                return np.zeros((n, len(self.items)))
            return context[name]
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
        if name == "content":
            assert self.text_similarity is not None
            scores = np.asarray((matrix @ self.text_similarity).todense())
            return np.where(_bought(matrix), _EXCLUDED, scores)
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
        self,
        lines: pd.DataFrame,
        cutoff: date | None = None,
        k: int = K,
        events: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """The top ``k`` products of every customer with a purchase up to ``cutoff``
        (default: the fitting cutoff), from their own purchases in ``lines`` (and their web
        ``events`` up to ``cutoff`` for the session and sequence candidates).

        A blend with ``discovery_slots`` fills its last ranks with products new to the
        customer (see the module docstring).

        Returns:
            ``customer, rank (1..k), sku, score`` (in discovery slots, the discovery score).
        """
        cutoff = pd.Timestamp(cutoff) if cutoff is not None else self.cutoff
        bought = purchases(lines.loc[lines["ds"] <= cutoff])
        customers, matrix = self._customer_matrix(bought, cutoff)
        frames = []
        for start in range(0, len(customers), 2000):  # bounded memory for large bases
            block = customers[start : start + 2000]
            context = self.event_scores(lines, events, cutoff, block)
            frames.append(self._top(matrix[start : start + 2000], block, k, context))
        if not frames:
            return pd.DataFrame(columns=["customer", "rank", "sku", "score"])
        return pd.concat(frames, ignore_index=True)

    def _top(
        self,
        matrix: sp.csr_matrix,
        customers: pd.Index,
        k: int,
        context: dict[str, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """The top ``k`` of a block of customers, discovery slots included."""
        scores = self._scores(matrix, context)
        if not self.discovery_slots:
            return top_k(scores, customers, self.items, k)
        new = self._weighted(
            matrix, self.params.get("discovery_weights", {}), DISCOVERY, True, context
        )
        slots = self.slots_of(matrix)
        return slotted_top_k(scores, new, ~_bought(matrix), customers, self.items, k, slots)

    def _tie(self) -> np.ndarray:
        return 1e-6 * self.popularity / max(self.popularity.max(), 1e-12)

    def _weighted(
        self,
        matrix: sp.csr_matrix,
        weights: dict[str, float],
        names: tuple[str, ...],
        new_only: bool = False,
        context: dict[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Weighted sum of candidates, each divided by its largest absolute score per
        customer (over new products only when ``new_only``)."""
        total = np.zeros((matrix.shape[0], len(self.items)))
        bought = _bought(matrix) if new_only else None
        for name in names:
            weight = float(weights.get(name, 0.0))
            if weight:
                total += weight * normalised(self._component(name, matrix, context), bought)
        return total + self._tie()

    def _scores(
        self, matrix: sp.csr_matrix, context: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        if self.name != "blend":
            return self._component(self.name, matrix, context) + self._tie()
        names = (*COMPONENTS, *EVENT_COMPONENTS)
        return self._weighted(matrix, self.params.get("weights", {}), names, False, context)


def session_matrix(
    events: pd.DataFrame | None,
    lines: pd.DataFrame,
    cutoff: pd.Timestamp,
    customers: pd.Index,
    items: np.ndarray,
    halflife: float,
    cart_weight: float,
) -> sp.csr_matrix:
    """The ``session`` candidate's scores: for each customer and product, the views,
    wishlist adds and cart adds (``cart_weight`` each) of the last :data:`SESSION_DAYS`
    days up to ``cutoff`` made after the customer's last purchase of it, each weighted by
    ``0.5 ** (age / halflife)`` (age in days; a purchase on the event's day counts as
    after it: the view led to it).

    Args:
        events: :data:`~forecasting.behaviour.events.CUSTOMER_COLUMNS` (``None``: zeros).
        lines: Customer lines (purchases up to ``cutoff`` mark what was bought since).
        cutoff: The last day it may see.
        customers: The rows.
        items: The columns (products not among them are left out).
        halflife: Days after which an event weighs half.
        cart_weight: A cart add's weight (a view's is 1).

    Returns:
        Customers x items, sparse.
    """
    shape = (len(customers), len(items))
    if events is None or events.empty:
        return sp.csr_matrix(shape)
    cutoff = pd.Timestamp(cutoff)
    start = cutoff - pd.Timedelta(days=SESSION_DAYS - 1)
    seen = events.loc[
        (events["ds"] >= start)
        & (events["ds"] <= cutoff)
        & events["event_type"].isin(list(_SESSION_KINDS))
        & events["customer"].isin(customers)
    ]
    if seen.empty:
        return sp.csr_matrix(shape)
    bought = purchases(lines.loc[(lines["ds"] >= start) & (lines["ds"] <= cutoff)])
    last = bought.groupby(["customer", "sku"])["ds"].max().rename("bought")
    seen = seen.join(last, on=["customer", "sku"])
    seen = seen.loc[~(seen["bought"] >= seen["ds"])]
    kind = np.where(seen["event_type"] == "cart_add", cart_weight, 1.0)
    age = (cutoff - seen["ds"]).dt.days.to_numpy(float)
    weight = seen["events"].to_numpy(float) * kind * 0.5 ** (age / max(halflife, 1e-6))
    rows = customers.get_indexer(seen["customer"])
    cols = pd.Index(items).get_indexer(seen["sku"])
    keep = (rows >= 0) & (cols >= 0)
    matrix = sp.csr_matrix((weight[keep], (rows[keep], cols[keep])), shape=shape)
    matrix.sum_duplicates()
    return matrix


def repeat_strength(matrix: sp.csr_matrix) -> np.ndarray:
    """Each customer's (row's) largest recency-weighted purchase count: the repeat score
    of their strongest product (low: few, old purchases, so a weak repeat list)."""
    if matrix.shape[1] == 0:
        return np.zeros(matrix.shape[0])
    return np.asarray(matrix.max(axis=1).todense(), dtype=float).ravel()


def _bought(matrix: sp.csr_matrix) -> np.ndarray:
    """Dense mask of the products each customer (row) bought."""
    return np.asarray((matrix > 0).todense())


def normalised(part: np.ndarray, bought: np.ndarray | None = None) -> np.ndarray:
    """``part`` divided by each row's largest absolute score (over the products not
    ``bought`` when given; those score ``0``)."""
    if bought is not None:
        part = np.where(bought, 0.0, part)
    top = np.abs(part).max(axis=1, keepdims=True)
    return part / np.where(top > 0, top, 1.0)


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


def _text_neighbours(vectors: np.ndarray, keep: int, block: int = 1000) -> sp.csr_matrix:
    """Each item's ``keep`` most similar items by embedding (positive cosine only, not
    itself), in blocks of ``block`` items (memory: ``block x items``)."""
    n = len(vectors)
    keep = min(keep, n - 1)
    if keep <= 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    rows, cols, vals = [], [], []
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors.T
        own = np.arange(start, min(start + block, n))
        sims[own - start, own] = -np.inf
        top = top_positions(sims, keep)
        val = np.take_along_axis(sims, top, axis=1)
        good = val > 0
        rows.append(np.repeat(own, keep)[good.ravel()])
        cols.append(top[good])
        vals.append(val[good])
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n, n),
        dtype=np.float32,
    )


def _fit_als(matrix: sp.csr_matrix, params: dict[str, Any]) -> np.ndarray:
    """Item factors of implicit ALS on confidence ``alpha x weighted counts``."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    # implicit runs its own threads: BLAS's pool inside them only oversubscribes the cores
    # (OPENBLAS_NUM_THREADS would come too late: NumPy has loaded OpenBLAS already).
    with threadpool_limits(1, "blas"):
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


def slotted_top_k(
    scores: np.ndarray,
    new_scores: np.ndarray,
    new: np.ndarray,
    customers: pd.Index,
    items: np.ndarray,
    k: int = K,
    slots: int | np.ndarray = 0,
) -> pd.DataFrame:
    """The top ``k`` with the last ``slots`` ranks reserved for new products.

    Ranks ``1..k - slots`` are the best by ``scores``; ranks ``k - slots + 1..k`` the best
    by ``new_scores`` among the ``new`` products not already listed (when a customer has
    too few new products, the next best by ``scores`` fill the rest).

    Args:
        scores: The blend's scores, customers x items.
        new_scores: The discovery scores, same shape.
        new: Boolean mask, same shape: the products new to each customer.
        customers: The rows' customers.
        items: The columns' SKUs.
        k: List length.
        slots: Ranks reserved for new products (``0 <= slots <= k``): one number for
            every customer, or one per customer (row).

    Returns:
        ``customer, rank (1..k), sku, score``: ``score`` is the blend's score in the first
        ranks and the discovery score in the slots.
    """
    positions, values = slotted_positions(scores, new_scores, new, k, slots)
    k = positions.shape[1]
    return pd.DataFrame(
        {
            "customer": np.repeat(customers.to_numpy(), k),
            "rank": np.tile(np.arange(1, k + 1), len(positions)),
            "sku": items[positions.ravel()],
            "score": values.ravel(),
        }
    )


def slotted_positions(
    scores: np.ndarray,
    new_scores: np.ndarray,
    new: np.ndarray,
    k: int = K,
    slots: int | np.ndarray = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Item positions and scores of :func:`slotted_top_k`, shape ``(customers, k)``."""
    if isinstance(slots, np.ndarray):
        per_row = slots.astype(np.int64)
        k = min(k, scores.shape[1])
        positions = np.zeros((scores.shape[0], k), dtype=np.int64)
        values = np.zeros((scores.shape[0], k))
        for n in np.unique(per_row):
            rows = per_row == n
            positions[rows], values[rows] = slotted_positions(
                scores[rows], new_scores[rows], new[rows], k, int(n)
            )
        return positions, values
    k = min(k, scores.shape[1])
    slots = max(0, min(int(slots), k))
    head = top_positions(scores, k - slots)
    if not slots:
        return head, np.take_along_axis(scores, head, axis=1)
    # New products first (by discovery score), then the rest by the blend's score.
    rest = np.where(new, new_scores + _NEW_FIRST, scores)
    np.put_along_axis(rest, head, -np.inf, axis=1)
    tail = top_positions(rest, slots)
    tail_values = np.take_along_axis(rest, tail, axis=1)
    tail_values = np.where(tail_values >= _NEW_FIRST / 2, tail_values - _NEW_FIRST, tail_values)
    return (
        np.concatenate([head, tail], axis=1),
        np.concatenate([np.take_along_axis(scores, head, axis=1), tail_values], axis=1),
    )


#: Added to new products' discovery scores so that they rank before any other product.
_NEW_FIRST = 1e6


def top_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of each row's ``k`` best scores, best first.

    Args:
        scores: Customers x items.
        k: How many (at most the number of items).

    Returns:
        Item positions, shape ``(customers, k)``.
    """
    if k <= 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


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
