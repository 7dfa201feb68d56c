"""The MLflow run of one run date: what analysts open in the MLflow UI.

One parent run per run date (named ``demand_forecast <day>``) holds the data window and
counts, the cleaning and data-quality counts, the training decision and its reason, git sha
and package versions, and -- on training days -- every candidate's catalogue-level
backtest (one nested run each, metrics per window as steps), the backtest table and plot,
the promotion decision and the registered model. Re-running a date with the same data
and configuration adds nothing; with changed data, a new run records what changed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from forecasting.evaluation.metrics import METRIC_COLUMNS
from forecasting.registry.tracking import flatten, git_sha, package_versions, tracker

__all__ = [
    "COMPLETE_TAG",
    "CandidateRun",
    "DateRun",
    "candidate_runs",
    "date_run",
    "end_stale_runs",
    "find_date_run",
    "log_candidates",
    "log_frame",
    "log_live_metrics",
    "log_text_artifact",
    "start_date_run",
]

log = logging.getLogger(__name__)

#: Set on a parent run once everything for its date was logged and decided.
COMPLETE_TAG = "forecasting.complete"


@dataclass(frozen=True)
class DateRun:
    """The date's run: the newest finished parent run of a run date marked complete.

    Attributes:
        run_id: The MLflow run's id.
        tags: Its tags (``training.decision``, ``promotion.reason``, ``serving_version``...).
        params: Its parameters (``config.horizon``, ``config.n_windows``...).
    """

    run_id: str
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CandidateRun:
    """One candidate's nested run under a date's run.

    Attributes:
        name: The candidate (``candidate.name`` tag, else the run's name).
        metrics: Its latest metrics (``backtest_rmsse``...).
    """

    name: str
    metrics: dict[str, float] = field(default_factory=dict)


def _client(client: mlflow.MlflowClient | None) -> mlflow.MlflowClient:
    return tracker(client)


def date_run(
    experiment_id: str, run_day: date, client: mlflow.MlflowClient | None = None
) -> DateRun | None:
    """The date's run: the newest parent run of ``run_day`` that finished and was marked
    complete (:data:`COMPLETE_TAG`).

    The one answer to "which MLflow run is the date's run?": a run left ``RUNNING`` or
    ``KILLED`` by an attempt that died, or one that ended before everything was logged and
    decided, is never it.

    Args:
        experiment_id: The experiment holding the date's runs.
        run_day: The run date (tag ``logical_date``).
        client: MLflow client to ask (default: one on the configured tracking URI).

    Returns:
        The run, or ``None`` if the date has no finished, complete run.
    """
    runs = _client(client).search_runs(
        [experiment_id],
        f"tags.logical_date = '{run_day.isoformat()}' and attributes.status = 'FINISHED' "
        f"and tags.`{COMPLETE_TAG}` = 'true'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not runs:
        return None
    run = runs[0]
    return DateRun(run.info.run_id, dict(run.data.tags), dict(run.data.params))


def find_date_run(experiment_id: str, run_day: date) -> dict[str, str] | None:
    """The identifying tags of the date's run (:func:`date_run`): its id, data fingerprint,
    configuration hash, serving version and row count."""
    run = date_run(experiment_id, run_day)
    if run is None:
        return None
    return {
        "run_id": run.run_id,
        "fingerprint": run.tags.get("data_fingerprint", ""),
        "config_hash": run.tags.get("config_hash", ""),
        "serving_version": run.tags.get("serving_version", ""),
        "rows": run.tags.get("data.rows", ""),
    }


def candidate_runs(
    experiment_id: str, run_id: str, client: mlflow.MlflowClient | None = None
) -> list[CandidateRun]:
    """The candidates' nested runs under a date's run (at most 100), in MLflow's order."""
    children = _client(client).search_runs(
        [experiment_id], f"tags.`mlflow.parentRunId` = '{run_id}'", max_results=100
    )
    return [
        CandidateRun(
            child.data.tags.get("candidate.name", child.info.run_name), dict(child.data.metrics)
        )
        for child in children
    ]


def log_text_artifact(
    run_id: str, text: str, artifact_file: str, client: mlflow.MlflowClient | None = None
) -> None:
    """Log ``text`` as the artifact ``artifact_file`` (e.g. ``report/report.html``) of a
    run that may have ended."""
    _client(client).log_text(run_id, text, artifact_file)


def end_stale_runs(experiment_id: str, run_day: date) -> int:
    """Mark runs of a date left ``RUNNING`` by a killed attempt as ``KILLED``.

    Runs of a date are only written by its ``register`` step and the DAG runs one date at
    a time, so a ``RUNNING`` run of the date when a new attempt starts belongs to an
    attempt that died without ending it.
    """
    client = tracker()
    stale = client.search_runs(
        [experiment_id],
        f"tags.logical_date = '{run_day.isoformat()}' and attributes.status = 'RUNNING'",
    )
    for run in stale:
        for child in client.search_runs(
            [experiment_id],
            f"tags.`mlflow.parentRunId` = '{run.info.run_id}' and attributes.status = 'RUNNING'",
        ):
            client.set_terminated(child.info.run_id, status="KILLED")
        client.set_terminated(run.info.run_id, status="KILLED")
        log.warning(
            "marked run %s of %s (left RUNNING by a killed attempt) KILLED",
            run.info.run_id,
            run_day,
        )
    return len(stale)


@contextmanager
def start_date_run(
    experiment_id: str,
    run_day: date,
    tags: dict[str, str],
    params: dict[str, Any],
    title: str = "demand_forecast",
) -> Iterator[Any]:
    """Start the parent run of a date (named ``<title> <date>``) with its identifying tags
    and parameters.

    The run records the host and process that run it (``forecasting.host``/``pid``), so a
    person can tell which attempt wrote it. It ends ``FAILED`` if the block raises.
    """
    run_tags = {
        "logical_date": run_day.isoformat(),
        "forecasting.host": socket.gethostname(),
        "forecasting.pid": str(os.getpid()),
        **tags,
    }
    with mlflow.start_run(
        experiment_id=experiment_id,
        run_name=f"{title} {run_day.isoformat()}",
        tags=run_tags,
    ) as run:
        flat: dict[str, str] = {}
        for prefix, value in params.items():
            flat.update(flatten(prefix, value))
        flat.update({"git_sha": git_sha(), **flatten("versions", package_versions())})
        mlflow.log_params(flat)
        yield run


def log_frame(frame: pd.DataFrame, name: str) -> None:
    """Log a frame as CSV artifact ``name`` of the active run."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        frame.to_csv(path, index=False)
        mlflow.log_artifact(str(path))


def log_candidates(
    metrics: dict[str, dict[str, float]],
    windows: pd.DataFrame,
    configs: dict[str, dict[str, Any]],
    info: dict[str, dict[str, Any]],
) -> None:
    """One nested run per candidate: its parameters, catalogue metrics and metrics per
    window (as steps), and seconds spent (all shards)."""
    for label, m in metrics.items():
        with mlflow.start_run(run_name=label, nested=True, tags={"candidate.name": label}):
            mlflow.log_params(flatten("params", configs.get(label, {}).get("params", {})))
            mlflow.log_metrics({f"backtest_{k}": v for k, v in m.items() if np.isfinite(v)})
            for _, row in windows.loc[windows["model"] == label].iterrows():
                mlflow.log_metrics(
                    {
                        f"window_{c}": float(row[c])
                        for c in METRIC_COLUMNS
                        if c in row and np.isfinite(row[c])
                    },
                    step=int(row["window"]),
                )
            extra = info.get(label, {})
            mlflow.log_metric("train_seconds", float(extra.get("seconds", 0.0)))
            if extra.get("nonfinite"):
                mlflow.log_metric("nonfinite_forecasts", float(extra["nonfinite"]))


def log_json(payload: Any, name: str) -> None:
    """Log a JSON artifact to the active run."""
    mlflow.log_text(json.dumps(payload, indent=2, default=str), name)


#: Experiment holding one run per champion version with its live accuracy over time.
MONITORING_EXPERIMENT_SUFFIX = "_monitoring"


def log_live_metrics(
    experiment_id: str,
    model_name: str,
    version: str,
    run_day: date,
    live: dict[str, float],
    backtest: dict[str, float],
) -> str:
    """Log a version's live accuracy of one day to its monitoring run.

    One run per model version (named ``<model> v<version> live``, found again by its tags)
    holds its backtest metrics (``backtest_*``, logged once) and its live metrics as steps
    (step = the day's ordinal, timestamp = the day), so the MLflow UI charts backtest
    promise and live result side by side over time. Re-logging a day overwrites nothing:
    MLflow keeps both points at the same step and the charts show the latest.

    Returns:
        The monitoring run's id.
    """
    client = tracker()
    found = client.search_runs(
        [experiment_id],
        f"tags.`monitoring.model` = '{model_name}' and tags.`monitoring.version` = '{version}'",
        max_results=1,
    )
    if found:
        run_id = found[0].info.run_id
    else:
        run = client.create_run(
            experiment_id,
            run_name=f"{model_name} v{version} live",
            tags={"monitoring.model": model_name, "monitoring.version": str(version)},
        )
        run_id = run.info.run_id
        for key, value in backtest.items():
            if np.isfinite(value):
                client.log_metric(run_id, f"backtest_{key}", float(value))
    stamp = int(pd.Timestamp(run_day).timestamp() * 1000)
    for key, value in live.items():
        if np.isfinite(value):
            client.log_metric(
                run_id, f"live_{key}", float(value), timestamp=stamp, step=run_day.toordinal()
            )
    client.set_terminated(run_id)
    return str(run_id)
