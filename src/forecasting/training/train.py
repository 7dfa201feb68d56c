"""Backtest the candidates of a run configuration and fit the winner on all history.

These work on one panel: the whole catalogue in the benchmark, one shard in the DAG (see
:mod:`forecasting.training.shard`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from forecasting.config import PipelineConfig
from forecasting.evaluation.backtest import (
    BacktestPlan,
    ModelBacktest,
    backtest_model,
    combine_backtests,
)
from forecasting.evaluation.metrics import METRIC_COLUMNS
from forecasting.features.panel import Panel
from forecasting.models.calibrated import CalibratedForecaster
from forecasting.models.zoo import ensemble_members, make_model

__all__ = [
    "candidate_config",
    "candidate_params",
    "config_hash",
    "fit_final",
    "metrics_table",
    "pick_winner",
    "run_candidates",
]

log = logging.getLogger(__name__)


def candidate_params(config: PipelineConfig, name: str) -> dict[str, Any]:
    """Hyperparameters of a candidate, as built (defaults overridden by ``model_params``)."""
    return dict(config.model_params.get(name, {}))


def config_hash(payload: dict[str, Any]) -> str:
    """Short stable hash of a JSON-able configuration."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def candidate_config(config: PipelineConfig, name: str) -> dict[str, Any]:
    """What defines a trained candidate: name, horizon, seed and (member) parameters."""
    payload: dict[str, Any] = {"name": name, "horizon": config.horizon, "seed": config.seed}
    payload["params"] = candidate_params(config, name)
    if name == "ensemble":
        members, _, _ = ensemble_members(config.model_params.get("ensemble"))
        payload["members"] = {m: candidate_params(config, m) for m in members}
    return payload


def run_candidates(
    panel: Panel,
    config: PipelineConfig,
    measure_memory: bool = False,
    min_train_days: int | None = None,
) -> dict[str, ModelBacktest]:
    """Backtest every candidate of ``config``.

    Ensembles are scored from their members' backtests (no refit); members missing from
    the candidates are backtested too, under their own names.

    Args:
        panel: Full panel.
        config: Run configuration.
        measure_memory: Trace peak memory per model (benchmarks).
        min_train_days: Days the oldest window must leave to train on (default: two
            horizons; the pipeline passes its :class:`~forecasting.training.plan.TrainingPlan`'s).

    Returns:
        Backtests by candidate label, in the order run.
    """
    plan = BacktestPlan.of(config, min_train_days)
    jobs: dict[str, tuple[str, dict[str, Any]]] = {}
    ensembles: dict[str, list[str]] = {}
    for name in config.models:
        if name == "ensemble":
            members, _, _ = ensemble_members(config.model_params.get("ensemble"))
            ensembles[name] = members
            for m in members:
                jobs.setdefault(m, (m, candidate_params(config, m)))
        else:
            jobs[name] = (name, candidate_params(config, name))
    results: dict[str, ModelBacktest] = {}
    for label, (name, params) in jobs.items():

        def factory(name: str = name, params: dict[str, Any] = params) -> Any:
            return make_model(
                name,
                horizon=config.horizon,
                seed=config.seed,
                params=params,
                all_params=config.model_params,
            )

        results[label] = backtest_model(label, factory, panel, plan, measure_memory=measure_memory)
        log.info("%s: %s", label, {k: round(v, 4) for k, v in results[label].metrics.items()})
    for label, members in ensembles.items():
        _, weights, quantile_members = ensemble_members(config.model_params.get(label))
        w = weights or [1.0] * len(members)
        results[label] = combine_backtests(
            label, [results[m] for m in members], w, plan, quantile_members
        )
    return results


def metrics_table(
    metrics: dict[str, dict[str, float]], info: dict[str, dict[str, Any]] | None = None
) -> pd.DataFrame:
    """One row per candidate: metrics, and ``seconds`` and ``peak_memory_mb`` from ``info``."""
    rows = []
    for label, m in metrics.items():
        extra = (info or {}).get(label, {})
        rows.append(
            {
                "model": label,
                **{c: m.get(c, np.nan) for c in METRIC_COLUMNS},
                "seconds": extra.get("seconds", np.nan),
                "peak_memory_mb": extra.get("peak_memory_mb", np.nan),
            }
        )
    return pd.DataFrame(rows)


def pick_winner(
    metrics: dict[str, dict[str, float]],
    metric: str,
    candidates: tuple[str, ...],
    disqualified: frozenset[str] = frozenset(),
) -> str:
    """The candidate with the lowest ``metric``.

    Only names in ``candidates`` can win (ensemble members backtested for the ensemble's
    sake cannot); a disqualified candidate (a NaN or infinite forecast anywhere) never
    wins; ties go to the one listed first.

    Raises:
        ValueError: If no candidate has a finite score.
    """
    scores = {
        k: metrics[k][metric]
        for k in candidates
        if k in metrics and k not in disqualified and np.isfinite(metrics[k].get(metric, np.nan))
    }
    if not scores:
        raise ValueError(f"no candidate has a finite {metric}")
    order = {name: i for i, name in enumerate(candidates)}
    return min(scores, key=lambda k: (scores[k], order[k]))


def fit_final(
    panel: Panel, config: PipelineConfig, name: str, params: dict[str, Any], backtest: ModelBacktest
) -> CalibratedForecaster:
    """Fit a candidate on all history and attach the calibrator from its backtest."""
    model = make_model(
        name,
        horizon=config.horizon,
        seed=config.seed,
        params=params,
        all_params=config.model_params,
    )
    return CalibratedForecaster(model.fit(panel), backtest.calibrator, name)
