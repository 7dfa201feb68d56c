"""Thin wrapper over MLflow tracking: experiment set-up, run lookup, run metadata.

MLflow's APIs churn (stages were deprecated for aliases; ``artifact_path`` became
``name``), so the rest of the package talks to MLflow only through this package.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import subprocess
from pathlib import Path
from typing import Any

__all__ = [
    "artifact_names",
    "configure_mlflow",
    "flatten",
    "git_sha",
    "load_json_artifact",
    "log_figure",
    "log_metrics",
    "log_table",
    "package_versions",
    "set_tags",
    "tracker",
]

log = logging.getLogger(__name__)

_PACKAGES = (
    "forecasting",
    "pandas",
    "numpy",
    "scikit-learn",
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "mlflow",
    "great-expectations",
    "sqlalchemy",
    "apache-airflow",
)


def tracker(client: Any = None) -> Any:
    """The MLflow client: ``client`` when the caller has one (a task's
    :attr:`Resources.tracker <forecasting.resources.Resources.tracker>`), else a client on
    the URI :func:`configure_mlflow` set. The one place outside ``Resources`` that builds one."""
    if client is not None:
        return client
    import mlflow

    return mlflow.MlflowClient()


def configure_mlflow(tracking_uri: str, artifact_root: str, experiment: str) -> str:
    """Point MLflow at the store and make sure the experiment exists.

    New experiments put artifacts under ``artifact_root``/<experiment> (MLflow's own
    default would be ``./mlruns`` relative to wherever the worker happens to run).

    Returns:
        The experiment id.
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    from mlflow.exceptions import MlflowException

    from forecasting.errors import RegistryUnavailableError

    client = tracker()
    try:
        found = client.get_experiment_by_name(experiment)
    except (MlflowException, OSError) as exc:
        raise RegistryUnavailableError(
            f"MLflow tracking store {_redacted(tracking_uri)} unavailable: {exc}"
        ) from exc
    if found is not None:
        experiment_id = str(found.experiment_id)
    else:
        try:
            experiment_id = client.create_experiment(
                experiment, artifact_location=f"{artifact_root.rstrip('/')}/{experiment}"
            )
        except Exception:  # created concurrently by another task
            again = client.get_experiment_by_name(experiment)
            if again is None:
                raise
            experiment_id = str(again.experiment_id)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def _redacted(uri: str) -> str:
    """A tracking URI with any password masked."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return uri


def git_sha() -> str:
    """Commit of the code that runs: ``FORECASTING_GIT_SHA``, else ``git``, else ``unknown``."""
    if os.environ.get("FORECASTING_GIT_SHA"):
        return os.environ["FORECASTING_GIT_SHA"]
    repo = Path(__file__).resolve().parents[3]
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results."""
    versions: dict[str, str] = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def flatten(prefix: str, value: Any) -> dict[str, str]:
    """Flatten nested dicts into ``prefix.key`` params (MLflow params are flat strings)."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(flatten(f"{prefix}.{k}" if prefix else str(k), v))
        return out
    return {prefix: str(value)[:6000]}


# ------------------------------------------------------------------ the active run
# The pipelines log to the active run (``start_date_run``) through these, never through
# ``mlflow.`` directly: a change of MLflow's API is mended here once.
def log_metrics(metrics: dict[str, float]) -> None:
    """Log metrics to the active run."""
    import mlflow

    mlflow.log_metrics(metrics)


def set_tags(tags: dict[str, str]) -> None:
    """Set tags on the active run."""
    import mlflow

    mlflow.set_tags(tags)


def log_table(frame: Any, name: str) -> None:
    """Log a data frame as an MLflow table artefact (shown in the UI's artefact view)."""
    import mlflow

    mlflow.log_table(frame, name)


def log_figure(figure: Any, name: str) -> None:
    """Log a matplotlib figure as an image artefact, then close it."""
    import matplotlib.pyplot as plt
    import mlflow

    try:
        mlflow.log_figure(figure, name)
    finally:
        plt.close(figure)


def log_file(path: str | Path, artifact_dir: str) -> None:
    """Log a local file as an artefact of the active run, below ``artifact_dir``."""
    import mlflow

    mlflow.log_artifact(str(path), artifact_dir)


def artifact_names(client: Any, run_id: str) -> set[str]:
    """Paths of a run's top-level artefacts (``client``: an ``MlflowClient``)."""
    return {a.path for a in client.list_artifacts(run_id)}


def load_json_artifact(run_id: str, path: str) -> Any:
    """A run's JSON artefact, parsed."""
    import mlflow

    return mlflow.artifacts.load_dict(f"runs:/{run_id}/{path}")
