"""Backtest the candidates, choose the winner, fit it on all history and log everything.

One MLflow parent run per logical date holds the data window, row counts, feature list,
git sha, package versions, the validation report, every candidate's backtest metrics
(one nested run each), a plot, the promotion inputs and the winner as a pyfunc model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
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
from forecasting.features.spec import FeatureSpec
from forecasting.models.calibrated import CalibratedForecaster
from forecasting.models.zoo import ensemble_members, make_model

__all__ = ["TrainingOutcome", "candidate_params", "config_hash", "run_candidates", "train_and_log"]

log = logging.getLogger(__name__)

BASELINE = "seasonal_naive"
CHAMPION_PREFIX = "champion_config"


@dataclass
class TrainingOutcome:
    """What a training run produced (JSON-ready via :meth:`to_dict`)."""

    run_id: str
    model_uri: str
    candidate: str
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    reused: bool = False
    table: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for XCom and the CLI)."""
        return {
            "run_id": self.run_id,
            "model_uri": self.model_uri,
            "candidate": self.candidate,
            "metrics": self.metrics,
            "baseline_metrics": self.baseline_metrics,
            "champion_metrics": self.champion_metrics,
            "reused": self.reused,
            "table": self.table,
        }


def candidate_params(config: PipelineConfig, name: str) -> dict[str, Any]:
    """Hyperparameters of a candidate, as built (defaults overridden by ``model_params``)."""
    return dict(config.model_params.get(name, {}))


def config_hash(payload: dict[str, Any]) -> str:
    """Short stable hash of a JSON-able configuration."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _candidate_config(config: PipelineConfig, name: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"name": name, "horizon": config.horizon, "seed": config.seed}
    payload["params"] = candidate_params(config, name)
    if name == "ensemble":
        members, _, _ = ensemble_members(config.model_params.get("ensemble"))
        payload["members"] = {m: candidate_params(config, m) for m in members}
    return payload


def run_candidates(
    panel: Panel,
    config: PipelineConfig,
    extra: dict[str, tuple[str, dict[str, Any]]] | None = None,
    measure_memory: bool = False,
) -> dict[str, ModelBacktest]:
    """Backtest every candidate of ``config`` (plus ``extra`` named configurations).

    Ensembles are scored from their members' backtests (no refit); members missing from
    the candidates are backtested too, under their own names.

    Args:
        panel: Full panel.
        config: Run configuration.
        extra: ``label -> (model name, params)`` of further configurations (the current
            champion's, when it is not among today's candidates).
        measure_memory: Trace peak memory per model (benchmarks).

    Returns:
        Backtests by candidate label, in the order run.
    """
    plan = BacktestPlan(
        config.horizon, config.n_windows, config.calibration_windows, config.active_days
    )
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
    for label, job in (extra or {}).items():
        jobs[label] = job
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


def metrics_table(results: dict[str, ModelBacktest]) -> pd.DataFrame:
    """One row per candidate: metrics, seconds and peak memory."""
    rows = []
    for label, res in results.items():
        row: dict[str, Any] = {"model": label}
        row.update({m: res.metrics.get(m, np.nan) for m in METRIC_COLUMNS})
        row["seconds"] = res.seconds
        row["peak_memory_mb"] = res.peak_memory_mb
        rows.append(row)
    return pd.DataFrame(rows)


def pick_winner(
    results: dict[str, ModelBacktest], metric: str, exclude: tuple[str, ...] = ()
) -> str:
    """Candidate with the lowest ``metric`` (ties: the earlier candidate)."""
    scores = {
        k: r.metrics[metric]
        for k, r in results.items()
        if k not in exclude and np.isfinite(r.metrics[metric])
    }
    if not scores:
        raise ValueError(f"no candidate has a finite {metric}")
    return min(scores, key=lambda k: scores[k])


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


def train_and_log(
    panel: Panel,
    config: PipelineConfig,
    *,
    logical_date: date,
    experiment_id: str,
    run_tags: dict[str, str],
    registered_model: str,
    data_info: dict[str, Any],
    artifacts: list[str | Path] = (),  # type: ignore[assignment]
) -> TrainingOutcome:
    """The train/backtest step: one MLflow parent run with a nested run per candidate.

    Args:
        panel: Full panel (history and future covariates).
        config: Run configuration.
        logical_date: The run's logical date (run name and tag).
        experiment_id: MLflow experiment.
        run_tags: Tags identifying the run (logical date, data fingerprint, config hash).
        registered_model: Registered model whose champion is compared.
        data_info: Data window and row counts (logged as params).
        artifacts: Files to attach (e.g. the validation report).

    Returns:
        The outcome; the winner is logged as the run's ``model``.
    """
    import mlflow

    from forecasting.evaluation.plots import plot_backtest
    from forecasting.registry.models import get_champion
    from forecasting.registry.pyfunc import log_forecaster
    from forecasting.registry.tracking import flatten, git_sha, package_versions

    champion = get_champion(registered_model)
    configs = {name: _candidate_config(config, name) for name in config.models}
    extra: dict[str, tuple[str, dict[str, Any]]] = {}
    champion_label: str | None = None
    if champion is not None:
        same = [n for n, c in configs.items() if config_hash(c) == champion.config_hash]
        if same:
            champion_label = same[0]
        elif champion.candidate and champion.candidate != "ensemble":
            champion_label = f"{CHAMPION_PREFIX}_{champion.candidate}"
            extra[champion_label] = (champion.candidate, champion.params)
        else:
            log.warning(
                "champion v%s's configuration cannot be re-backtested; comparing without it",
                champion.version,
            )

    with mlflow.start_run(
        experiment_id=experiment_id,
        run_name=f"demand_forecast {logical_date.isoformat()}",
        tags=run_tags,
    ) as run:
        spec = FeatureSpec()
        mlflow.log_params(flatten("data", data_info))
        mlflow.log_params(flatten("config", config.model_dump(exclude={"model_params"})))
        mlflow.log_params(flatten("model_params", config.model_params))
        mlflow.log_params({"git_sha": git_sha(), **flatten("versions", package_versions())})
        mlflow.log_dict(
            {"spec": spec.to_dict(), "feature_names": spec.feature_names()}, "features.json"
        )
        for path in artifacts:
            mlflow.log_artifact(str(path))

        results = run_candidates(panel, config, extra)
        table = metrics_table(results)
        for label, res in results.items():
            with mlflow.start_run(run_name=label, nested=True, tags={"candidate.name": label}):
                mlflow.log_params(
                    flatten("params", (configs.get(label) or {"params": extra[label][1]})["params"])
                )
                mlflow.log_metrics(
                    {f"backtest_{k}": v for k, v in res.metrics.items() if np.isfinite(v)}
                )
                for _, row in res.window_metrics.iterrows():
                    mlflow.log_metrics(
                        {
                            f"window_{m}": float(row[m])
                            for m in METRIC_COLUMNS
                            if np.isfinite(row[m])
                        },
                        step=int(row["window"]),
                    )
                mlflow.log_metric("train_seconds", res.seconds)

        winner = pick_winner(results, config.primary_metric, exclude=tuple(extra))
        win_name = winner
        win_params = configs[winner]["params"]
        final = fit_final(panel, config, win_name, win_params, results[winner])
        model_uri = log_forecaster(final, panel, config.horizon)

        def prefixed(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
            return {f"{prefix}_{k}": v for k, v in metrics.items() if np.isfinite(v)}

        mlflow.log_metrics(prefixed("backtest", results[winner].metrics))
        mlflow.log_metrics(prefixed("baseline", results[BASELINE].metrics))
        champion_metrics = results[champion_label].metrics if champion_label else None
        if champion_metrics:
            mlflow.log_metrics(prefixed("champion", champion_metrics))
        mlflow.log_table(table, "backtest_metrics.json")
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "backtest_metrics.csv"
            table.to_csv(csv, index=False)
            mlflow.log_artifact(str(csv))
            windows = pd.concat(
                [r.window_metrics.assign(model=k) for k, r in results.items()], ignore_index=True
            )
            windows.to_csv(Path(tmp) / "backtest_windows.csv", index=False)
            mlflow.log_artifact(str(Path(tmp) / "backtest_windows.csv"))
        figure = plot_backtest(panel, results[winner].scored)
        mlflow.log_figure(figure, "backtest_plot.png")
        mlflow.set_tags(
            {
                "candidate.name": win_name,
                "candidate.params": json.dumps(win_params, sort_keys=True, default=str),
                "candidate.config_hash": config_hash(configs[winner]),
                "candidate.model_uri": model_uri,
                "champion.compared_label": champion_label or "",
                "champion.version_at_training": champion.version if champion else "",
                "forecasting.complete": "true",
            }
        )
        run_id = run.info.run_id

    return TrainingOutcome(
        run_id=run_id,
        model_uri=model_uri,
        candidate=win_name,
        metrics=results[winner].metrics,
        baseline_metrics=results[BASELINE].metrics,
        champion_metrics=champion_metrics,
        table=table.to_dict(orient="records"),
    )
