"""Tuning and comparing the recommenders of :mod:`forecasting.customers.recommend`.

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
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecasting.customers.config import RECOMMENDERS
from forecasting.customers.features import LABEL_DAYS, purchases
from forecasting.customers.recommend import COMPONENTS, K, Recommender, top_k

__all__ = [
    "GRIDS",
    "RecommenderBacktest",
    "backtest_recommenders",
    "ranking_metrics",
    "tune_and_fit",
]

log = logging.getLogger(__name__)


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
    for name in COMPONENTS:
        part = model._component(name, matrix).astype(np.float32)
        top = np.abs(part).max(axis=1, keepdims=True)
        parts[name] = part / np.where(top > 0, top, 1.0)
    tie = (1e-6 * model.popularity / max(model.popularity.max(), 1e-12)).astype(np.float32)
    best, best_ndcg = None, -1.0
    for w in itertools.product(_BLEND_WEIGHTS, repeat=len(COMPONENTS)):
        if not any(w):
            continue
        total = sum(weight * parts[name] for name, weight in zip(COMPONENTS, w, strict=True))
        recs = top_k(np.asarray(total) + tie, customers, model.items)
        ndcg = ranking_metrics(recs, history, truth)["ndcg_at_10"]
        if ndcg > best_ndcg:
            best, best_ndcg = {**base, "weights": dict(zip(COMPONENTS, w, strict=True))}, ndcg
    assert best is not None
    return best


def tune_and_fit(
    lines: pd.DataFrame, run_day: date, name: str, params: dict[str, Any]
) -> Recommender:
    """The recommender that gets registered: tuned parameters, fitted on everything up to
    the run's day."""
    return Recommender(name, params).fit(lines, run_day)
