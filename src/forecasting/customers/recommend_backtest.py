"""Tuning and comparing the recommenders of :mod:`forecasting.customers.recommend`.

Hyperparameters and blend weights are chosen on a validation window (purchases between
``run_day - 56`` and ``run_day - 28``); the candidates are then compared on the last 28 days,
which nothing was tuned on. Metrics over customers who bought in the window and before it
(the *evaluated* customers): HR@10, precision@10, recall@10, NDCG@10, and two rates of
discovery, with the same numerator -- the customers who bought, within the window, a product
they had never bought before and that was in their top 10:

* ``new_item_hit_rate``: divided by every evaluated customer (the denominator of HR@10; the
  issue's "share of customers"; the discovery target is stated on this one);
* ``discovery_hit_rate``: divided by the evaluated customers who bought at least one new
  product in the window (so at least ``new_item_hit_rate``).

The blend's discovery slots (:mod:`forecasting.customers.recommend`) are tuned here too: on
the validation window, customers are split into thirds by
:func:`~forecasting.customers.recommend.repeat_strength` (``discovery_groups``' edges), and
the number of slots of each third (0 to 10; the same for all is one of the settings) and
the discovery weights are those that give the
highest NDCG@10 among the settings whose new-item hit rate reaches
:attr:`~forecasting.customers.config.CustomerConfig.discovery_target` (0.20) and whose
NDCG@10 is at least the tuned repeat-purchase heuristic's; if none reaches the target, the
highest new-item hit rate among those that keep that NDCG@10. A fixed ``discovery_slots``
is one number for everyone (no groups; the weights still tuned).

With web events (``events``), the ``session`` and ``sequence`` candidates are tuned and
compared like the others, and the blend's grid weighs them too (session also fills
discovery slots): they stay in the blend only when the validation window gives them a
weight. Without events they are left out and everything is as before.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from forecasting.customers.config import RECOMMENDERS
from forecasting.customers.features import LABEL_DAYS, purchases
from forecasting.customers.recommend import (
    COMPONENTS,
    DISCOVERY,
    EVENT_COMPONENTS,
    K,
    Recommender,
    normalised,
    repeat_strength,
    top_positions,
)
from forecasting.customers.sequence import SequenceModel
from forecasting.text.embedding import TextEmbedding

__all__ = [
    "DISCOVERY_TARGET",
    "GRIDS",
    "RecommenderBacktest",
    "backtest_recommenders",
    "fit_text_model",
    "ranking_metrics",
    "tune_and_fit",
]

#: The new-item hit rate the discovery slots aim for on the validation window (default of
#: :attr:`~forecasting.customers.config.CustomerConfig.discovery_target`).
DISCOVERY_TARGET = 0.20

log = logging.getLogger(__name__)


def ranking_metrics(
    recs: pd.DataFrame, history: pd.DataFrame, truth: pd.DataFrame
) -> dict[str, float]:
    """HR@10, precision@10, recall@10, NDCG@10 and the two discovery rates.

    Args:
        recs: ``customer, rank, sku``.
        history: Purchases up to the cutoff (``customer, sku``).
        truth: Purchases in the window after it (``customer, sku``).

    Returns:
        Metrics over the customers who bought both before and in the window (``customers``):
        ``new_item_hit_rate`` is the share of them who bought a product new to them that
        was in their top 10; ``discovery_hit_rate`` the same count divided by
        ``customers_with_new_items`` (those who bought any product new to them).
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
    n_found = 0
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
            n_found += disc[-1]
    return {
        "hr_at_10": float(np.mean(hr)) if hr else float("nan"),
        "precision_at_10": float(np.mean(prec)) if prec else float("nan"),
        "recall_at_10": float(np.mean(rec)) if rec else float("nan"),
        "ndcg_at_10": float(np.mean(ndcg)) if ndcg else float("nan"),
        "new_item_hit_rate": n_found / len(wanted) if len(wanted) else float("nan"),
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
    name: str,
    params: dict[str, Any],
    lines: pd.DataFrame,
    cutoff: pd.Timestamp,
    text: TextEmbedding | None = None,
    events: pd.DataFrame | None = None,
) -> dict[str, float]:
    history, truth = _window(lines, cutoff)
    model = Recommender(name, params).fit(lines, cutoff, text, events)
    return ranking_metrics(model.recommend(lines, cutoff, events=events), history, truth)


def fit_text_model(products: pd.DataFrame | None, seed: int = 42) -> TextEmbedding | None:
    """The catalogue's text model (``None`` without products: no content candidate).

    Args:
        products: ``sku, name, description, category`` of the catalogue.
        seed: The SVD's random state.
    """
    if products is None or products.empty:
        return None
    products = products.drop_duplicates("sku").reset_index(drop=True)
    return TextEmbedding.fit(products, seed=seed)


#: Grids searched on the validation window.
GRIDS: dict[str, list[dict[str, Any]]] = {
    "popularity": [{}],
    "repeat": [{"halflife": h} for h in (14.0, 60.0, 180.0, 720.0)],
    "cooccurrence": [{"halflife": h} for h in (30.0, 180.0)],
    "content": [
        {"halflife": h, "neighbours": n} for h, n in itertools.product((30.0, 180.0), (10, 30))
    ],
    "als": [
        {"factors": f, "regularization": r, "alpha": a, "iterations": 15}
        for f, r, a in itertools.product((32, 64), (0.1, 1.0), (5.0, 20.0))
    ],
    "session": [
        {"session_halflife": h, "cart_weight": c}
        for h, c in itertools.product((3.0, 7.0, 14.0), (1.0, 3.0))
    ],
    "sequence": [{"length": 10, "epochs": 3}],
}
_BLEND_WEIGHTS = (0.0, 0.5, 1.0)
#: Numbers of discovery slots tried on the validation window.
_SLOTS = tuple(range(K + 1))
#: Groups of customers (quantiles of :func:`~forecasting.customers.recommend.repeat_strength`
#: on the validation window) that each get their own number of discovery slots.
_GROUPS = 3


@dataclass
class RecommenderBacktest:
    """Validation (tuning) and test metrics of every candidate.

    Attributes:
        params: Each candidate's tuned settings.
        validation: Each candidate's metrics on the validation window.
        test: Each candidate's metrics on the test window (not tuned on).
        seconds: Each candidate's tuning and scoring time.
        text: The catalogue's text model the content scores used (``None``: no products).
    """

    params: dict[str, dict[str, Any]]
    validation: dict[str, dict[str, float]]
    test: dict[str, dict[str, float]]
    seconds: dict[str, float]
    text: TextEmbedding | None = None

    def table(self) -> pd.DataFrame:
        """One row per candidate: test metrics, validation NDCG@10 and new-item hit rate."""
        rows = [
            {
                "model": k,
                **self.test[k],
                "validation_ndcg_at_10": self.validation[k]["ndcg_at_10"],
                "validation_new_item_hit_rate": self.validation[k]["new_item_hit_rate"],
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
    products: pd.DataFrame | None = None,
    discovery_slots: int | None = None,
    discovery_target: float = DISCOVERY_TARGET,
    events: pd.DataFrame | None = None,
) -> RecommenderBacktest:
    """Tune every candidate on the validation window, then score it on the test window.

    Validation: purchases up to ``run_day - 56`` predict ``(run_day - 56, run_day - 28]``;
    test: purchases up to ``run_day - 28`` predict the last 28 days.

    Args:
        lines: Customer lines.
        run_day: The run's day.
        seed: Seed of ALS, the SVD and the blend's customer sample.
        candidates: The candidates to compare.
        products: The catalogue (``sku, name, description, category``) the content
            candidate's text model is fitted on; without it there is no ``content``
            candidate and the discovery slots use the other scorers.
        discovery_slots: The blend's discovery slots; ``None``: tuned (see the module
            docstring).
        discovery_target: The validation new-item hit rate the slots aim for.
        events: The customers' web events
            (:data:`~forecasting.behaviour.events.CUSTOMER_COLUMNS`); ``None`` (or no
            rows): no session or sequence candidate.
    """
    val_cut = pd.Timestamp(run_day - timedelta(days=2 * LABEL_DAYS))
    test_cut = pd.Timestamp(run_day - timedelta(days=LABEL_DAYS))
    text = fit_text_model(products, seed)
    if text is None and "content" in candidates:
        log.warning("no product text: the content recommender is left out")
        candidates = tuple(c for c in candidates if c != "content")
    if events is not None and events.empty:
        events = None
    if events is None and set(EVENT_COMPONENTS) & set(candidates):
        log.info("no web events: the session and sequence recommenders are left out")
        candidates = tuple(c for c in candidates if c not in EVENT_COMPONENTS)
    params: dict[str, dict[str, Any]] = {}
    validation: dict[str, dict[str, float]] = {}
    test: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    # Repeat purchases and ALS are always tuned (the blend needs their settings); content
    # when it is a candidate or the blend's discovery slots may use it.
    needed = set(candidates) | {"repeat", "als"}
    if "blend" in candidates and text is not None:
        needed.add("content")
    if "blend" in candidates and events is not None:
        needed |= set(EVENT_COMPONENTS)
    for name, grid in GRIDS.items():
        if name not in needed:
            continue
        started = time.perf_counter()
        scored = [
            (p, _evaluate(name, {**p, "seed": seed}, lines, val_cut, text, events)) for p in grid
        ]
        best, metrics = max(scored, key=lambda pm: np.nan_to_num(pm[1]["ndcg_at_10"]))
        if name == "content":  # for discovery: its own NDCG only counts new products
            best, metrics = max(scored, key=lambda pm: np.nan_to_num(pm[1]["new_item_hit_rate"]))
        params[name], validation[name] = {**best, "seed": seed}, metrics
        test[name] = _evaluate(name, params[name], lines, test_cut, text, events)
        seconds[name] = time.perf_counter() - started
        log.info(
            "recommender %s %s: validation NDCG %.4f new-item hit rate %.4f, test NDCG %.4f "
            "new-item hit rate %.4f",
            name,
            best,
            metrics["ndcg_at_10"],
            metrics["new_item_hit_rate"],
            test[name]["ndcg_at_10"],
            test[name]["new_item_hit_rate"],
        )
    if "blend" not in candidates:
        return RecommenderBacktest(params, validation, test, seconds, text)
    started = time.perf_counter()
    blend_params = _tune_blend(
        lines, val_cut, params, seed, text, discovery_slots, discovery_target, events=events
    )
    params["blend"] = blend_params
    validation["blend"] = _evaluate("blend", blend_params, lines, val_cut, text, events)
    test["blend"] = _evaluate("blend", blend_params, lines, test_cut, text, events)
    seconds["blend"] = time.perf_counter() - started
    log.info(
        "recommender blend %s: validation NDCG %.4f new-item hit rate %.4f, test NDCG %.4f "
        "new-item hit rate %.4f",
        blend_params,
        validation["blend"]["ndcg_at_10"],
        validation["blend"]["new_item_hit_rate"],
        test["blend"]["ndcg_at_10"],
        test["blend"]["new_item_hit_rate"],
    )
    return RecommenderBacktest(params, validation, test, seconds, text)


@dataclass(frozen=True)
class _Targets:
    """What a sample of customers bought in a window, for scoring many rankings fast
    (the same numbers as :func:`ranking_metrics`)."""

    bought: np.ndarray  # customers x items: bought in the window
    new: np.ndarray  # customers x items: bought in the window, never before
    ideal: np.ndarray  # ideal DCG@K per customer
    has_new: np.ndarray  # bought a product new to them (known to the model or not)

    @classmethod
    def of(
        cls,
        customers: pd.Index,
        items: np.ndarray,
        before: sp.csr_matrix,
        history: pd.DataFrame,
        truth: pd.DataFrame,
    ) -> _Targets:
        truth = truth[["customer", "sku"]].drop_duplicates()
        truth = truth.loc[truth["customer"].isin(customers)]
        rows = customers.get_indexer(truth["customer"])
        cols = pd.Index(items).get_indexer(truth["sku"])
        known = cols >= 0
        bought = np.zeros((len(customers), len(items)), dtype=bool)
        bought[rows[known], cols[known]] = True
        old = np.asarray((before > 0).todense())
        pairs = pd.MultiIndex.from_frame(history[["customer", "sku"]])
        seen = pd.MultiIndex.from_frame(truth[["customer", "sku"]]).isin(pairs)
        has_new = np.zeros(len(customers), dtype=bool)
        has_new[rows[~seen]] = True
        sizes = np.bincount(rows, minlength=len(customers))
        discount = _discount()
        ideal = np.cumsum(discount)[np.clip(np.minimum(sizes, K), 1, K) - 1]
        return cls(bought, bought & ~old, np.where(sizes > 0, ideal, 0.0), has_new)

    def per_customer(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each customer's NDCG@10, hit (any) and new-item hit of item ``positions``."""
        hits = np.take_along_axis(self.bought, positions, axis=1)
        found = np.asarray(np.take_along_axis(self.new, positions, axis=1).any(axis=1))
        dcg = hits @ _discount()[: positions.shape[1]]
        ndcg = np.asarray(dcg / np.where(self.ideal > 0, self.ideal, 1.0))
        return ndcg, np.asarray(hits.any(axis=1)), found

    def score(self, positions: np.ndarray) -> dict[str, float]:
        """NDCG@10, HR@10 and new-item hit rate of item ``positions`` (customers x K)."""
        ndcg, hit, found = self.per_customer(positions)
        return {
            "ndcg_at_10": float(np.mean(ndcg)),
            "hr_at_10": float(np.mean(hit)),
            "new_item_hit_rate": float(np.mean(found)),
        }


def _discount() -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, K + 2))


def _tune_blend(
    lines: pd.DataFrame,
    cutoff: pd.Timestamp,
    params: dict[str, dict[str, Any]],
    seed: int,
    text: TextEmbedding | None = None,
    discovery_slots: int | None = None,
    discovery_target: float = DISCOVERY_TARGET,
    max_customers: int = 5000,
    events: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Blend weights, then discovery slots and weights, by grid search on the validation
    window (the rule: module docstring).

    The candidates are scored once (for at most ``max_customers`` customers who bought in
    the window); each weighting only recombines them.
    """
    history, truth = _window(lines, cutoff)
    base = {
        "halflife": params["repeat"].get("halflife", 90.0),
        **{k: v for k, v in params["als"].items() if k != "halflife"},
        **({"neighbours": params["content"]["neighbours"]} if "content" in params else {}),
        "seed": seed,
    }
    blended: tuple[str, ...] = COMPONENTS
    if events is not None:
        blended = (*COMPONENTS, *EVENT_COMPONENTS)
        base.update({k: v for k, v in params["session"].items() if k != "seed"})
        base.update({k: v for k, v in params["sequence"].items() if k != "seed"})
    model = Recommender("blend", {**base, "weights": {}}).fit(lines, cutoff, text)
    if events is not None:
        model.sequence = SequenceModel(
            length=int(base["length"]), epochs=int(base["epochs"]), seed=seed
        ).fit(lines, events, cutoff)
    customers, matrix = model._customer_matrix(history, cutoff)
    wanted = np.flatnonzero(customers.isin(truth["customer"].unique()))
    if len(wanted) > max_customers:
        wanted = np.sort(np.random.default_rng(seed).choice(wanted, max_customers, replace=False))
    matrix, customers = matrix[wanted], customers[wanted]
    context = (
        model.event_scores(lines, events, cutoff, customers, set(EVENT_COMPONENTS))
        if events is not None
        else None
    )
    targets = _Targets.of(customers, model.items, matrix, history, truth)
    tie = (1e-6 * model.popularity / max(model.popularity.max(), 1e-12)).astype(np.float32)
    old = np.asarray((matrix > 0).todense())
    raw = {name: model._component(name, matrix, context).astype(np.float32) for name in blended}
    parts = {name: normalised(part).astype(np.float32) for name, part in raw.items()}
    # Repeat purchases ranked exactly as the repeat candidate ranks them (raw, float64).
    repeat = model._component("repeat", matrix) + model._tie()
    floor = targets.score(top_positions(repeat, K))["ndcg_at_10"]

    best, best_ndcg, best_top = None, -1.0, np.zeros((len(customers), K), dtype=np.int64)
    for w in itertools.product(_BLEND_WEIGHTS, repeat=len(blended)):
        if not any(w):
            continue
        total = sum(weight * parts[name] for name, weight in zip(blended, w, strict=True))
        top = top_positions(np.asarray(total) + tie, K)
        ndcg = targets.score(top)["ndcg_at_10"]
        if ndcg > best_ndcg:
            best, best_ndcg, best_top = dict(zip(blended, w, strict=True)), ndcg, top
    assert best is not None
    blend = {**base, "weights": best, "discovery_slots": 0, "discovery_weights": {}}
    names = tuple(
        n
        for n in DISCOVERY
        if (n != "content" or text is not None) and (n != "session" or events is not None)
    )
    if text is not None:  # on the blend's history (repeat's half-life), as when it serves
        raw["content"] = model._component("content", matrix).astype(np.float32)
    if events is not None and "session" not in raw:
        raw["session"] = model._component("session", matrix, context).astype(np.float32)
    new_parts = {name: normalised(raw[name], old).astype(np.float32) for name in names}
    slots = _SLOTS if discovery_slots is None else (discovery_slots,)
    # Groups of customers by the strength of their repeat list (terciles on this window);
    # a fixed number of slots (``discovery_slots``) is one group.
    strength = repeat_strength(matrix)
    groups = 1 if discovery_slots is not None else _GROUPS
    edges = np.quantile(strength, np.arange(1, groups) / groups) if groups > 1 else np.zeros(0)
    group = np.searchsorted(edges, strength)
    members = np.stack([group == g for g in range(groups)]).astype(float)  # groups x customers
    allocations = np.array(list(itertools.product(slots, repeat=groups)), dtype=np.int64)
    # The rule's key: (target met, then NDCG@10; else the new-item hit rate, then NDCG@10).
    per_slots: dict[int, tuple[tuple[bool, float, float], dict[str, float], dict[str, float]]]
    per_slots = {}
    best_key: tuple[bool, float, float] | None = None
    chosen: tuple[np.ndarray, dict[str, float], dict[str, float]] | None = None
    n_customers = len(customers)
    for w in itertools.product(_BLEND_WEIGHTS, repeat=len(names)):
        if not any(w):
            continue
        weights = dict(zip(names, w, strict=True))
        new = sum(weight * new_parts[name] for name, weight in weights.items())
        # Best new products first, 2K of them: enough to skip the ones the head holds.
        order = top_positions(np.where(old, -np.inf, np.asarray(new) + tie), 2 * K)
        # Per group and number of slots: sums of NDCG@10, hits and new-item hits.
        sums = np.zeros((3, groups, len(slots)))
        for j, n in enumerate(slots):
            per = targets.per_customer(_slotted(best_top, order, n))
            sums[:, :, j] = np.stack([members @ part.astype(float) for part in per])
        index = {n: j for j, n in enumerate(slots)}
        cols = np.vectorize(index.__getitem__)(allocations)
        totals = sums[:, np.arange(groups), cols].sum(axis=2) / n_customers  # 3 x allocations
        ndcg, hr, rate = totals
        met = rate >= discovery_target
        for a in range(len(allocations)):
            metrics = {"ndcg_at_10": ndcg[a], "hr_at_10": hr[a], "new_item_hit_rate": rate[a]}
            key = (
                bool(met[a]),
                float(ndcg[a] if met[a] else rate[a]),
                float(rate[a] if met[a] else ndcg[a]),
            )
            uniform = len(set(allocations[a].tolist())) == 1
            n = int(allocations[a][0])
            if uniform and (n not in per_slots or key > per_slots[n][0]):
                per_slots[n] = (key, weights if n else {}, metrics)
            if (ndcg[a] >= floor or discovery_slots is not None) and (
                best_key is None or key > best_key
            ):
                best_key, chosen = key, (allocations[a], weights, metrics)
    if chosen is not None:
        allocation, weights, _metrics = chosen
        top_slots = int(allocation.max())
        blend.update(discovery_slots=top_slots, discovery_weights=weights if top_slots else {})
        if len(set(allocation.tolist())) > 1:
            blend["discovery_groups"] = {
                "edges": [float(e) for e in edges],
                "slots": [int(n) for n in allocation],
            }
    for n, (_key, weights, metrics) in sorted(per_slots.items()):
        log.info(
            "blend with %d discovery slots %s: validation NDCG@10 %.4f, HR@10 %.4f, new-item "
            "hit rate %.4f",
            n,
            weights,
            metrics["ndcg_at_10"],
            metrics["hr_at_10"],
            metrics["new_item_hit_rate"],
        )
    log.info(
        "blend tuned on %d customers: weights %s, %d discovery slots %s, groups %s "
        "(validation NDCG@10 %.4f, new-item hit rate %.4f; repeat NDCG %.4f, target "
        "new-item hit rate %.2f)",
        len(customers),
        best,
        blend["discovery_slots"],
        blend["discovery_weights"],
        blend.get("discovery_groups"),
        chosen[2]["ndcg_at_10"] if chosen else float("nan"),
        chosen[2]["new_item_hit_rate"] if chosen else float("nan"),
        floor,
        discovery_target,
    )
    return blend


def _slotted(head: np.ndarray, order: np.ndarray, slots: int) -> np.ndarray:
    """The first ``K - slots`` of ``head``, then the first ``slots`` of ``order`` not in it."""
    if not slots:
        return head
    first = head[:, : K - slots]
    taken = (order[:, :, None] == first[:, None, :]).any(axis=2)
    rank = np.argsort(taken, axis=1, kind="stable")[:, :slots]
    return np.concatenate([first, np.take_along_axis(order, rank, axis=1)], axis=1)


def tune_and_fit(
    lines: pd.DataFrame,
    run_day: date,
    name: str,
    params: dict[str, Any],
    text: TextEmbedding | None = None,
    events: pd.DataFrame | None = None,
) -> Recommender:
    """The recommender that gets registered: tuned parameters, fitted on everything up to
    the run's day (with the catalogue's text model, saved with it, and the web events its
    sequence model learns from)."""
    return Recommender(name, params).fit(lines, run_day, text, events)
