"""Model registry operations: versions, their tags, and the ``@champion`` alias.

Only "does not exist" is treated as an answer (no registered model yet): every other
registry error -- an outage, a timeout, a permission problem -- is raised as
:class:`RegistryUnavailableError`, which the orchestrator retries. An outage is never
mistaken for "there is no champion".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import mlflow
from mlflow.exceptions import MlflowException

from forecasting.errors import RegistryUnavailableError
from forecasting.lifecycle.promotion import CHAMPION_ALIAS
from forecasting.registry.tracking import tracker

__all__ = [
    "RegistryUnavailableError",
    "VersionInfo",
    "get_champion",
    "get_version",
    "list_versions",
    "load_version_model",
    "register_run_model",
    "set_champion",
    "set_version_tags",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Model version tags the pipeline writes (and reads back).
TAG_DATA_END = "data_end"
TAG_CONFIG_HASH = "config_hash"
TAG_CANDIDATE = "candidate"
TAG_SERIES = "series"
TAG_BACKFILL = "backfill"
TAG_PROMOTED_ON = "promoted_on"
TAG_BACKTEST_PREFIX = "backtest_"


def _call(action: Callable[[], T], what: str) -> T:
    """Run a registry call; anything but a well-formed MLflow answer becomes retryable."""
    try:
        return action()
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise
        raise RegistryUnavailableError(f"MLflow registry unavailable while {what}: {exc}") from exc
    except OSError as exc:  # requests' connection errors derive from OSError
        raise RegistryUnavailableError(f"MLflow registry unavailable while {what}: {exc}") from exc


@dataclass(frozen=True)
class VersionInfo:
    """A registered version and what the pipeline recorded about it.

    Attributes:
        version: Version number (as a string).
        run_id: MLflow run that logged it.
        candidate: Candidate name (``hgb``, ``ensemble`` ...).
        config_hash: Hash of the training configuration.
        data_end: Last day of the data it was trained on.
        backtest: Its recorded backtest metrics (catalogue level).
        series: Series it was trained on.
        backfill: Trained for a past date (never promoted).
        promoted_on: Run day it became ``@champion`` (``None``: never).
        tags: Every tag.
    """

    version: str
    run_id: str
    candidate: str = ""
    config_hash: str = ""
    data_end: date | None = None
    backtest: dict[str, float] = field(default_factory=dict)
    series: int = 0
    backfill: bool = False
    promoted_on: date | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_model_version(cls, mv: Any) -> VersionInfo:
        """Build from an MLflow ``ModelVersion``."""
        tags = dict(mv.tags or {})

        def day(key: str) -> date | None:
            return date.fromisoformat(tags[key]) if tags.get(key) else None

        return cls(
            version=str(mv.version),
            run_id=str(mv.run_id),
            candidate=tags.get(TAG_CANDIDATE, ""),
            config_hash=tags.get(TAG_CONFIG_HASH, ""),
            data_end=day(TAG_DATA_END),
            backtest={
                k[len(TAG_BACKTEST_PREFIX) :]: float(v)
                for k, v in tags.items()
                if k.startswith(TAG_BACKTEST_PREFIX)
            },
            series=int(tags.get(TAG_SERIES, 0) or 0),
            backfill=tags.get(TAG_BACKFILL) == "true",
            promoted_on=day(TAG_PROMOTED_ON),
            tags=tags,
        )


def get_champion(name: str) -> VersionInfo | None:
    """The ``@champion`` version of a registered model.

    Returns:
        The version, or ``None`` if the model or its alias does not exist.

    Raises:
        RegistryUnavailableError: If the registry could not answer.
    """
    client = tracker()
    try:
        model = _call(lambda: client.get_registered_model(name), "reading the registered model")
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = (model.aliases or {}).get(CHAMPION_ALIAS)
    if version is None:
        return None
    return get_version(name, str(version))


def get_version(name: str, version: str) -> VersionInfo:
    """One version of a registered model."""
    client = tracker()
    mv = _call(lambda: client.get_model_version(name, version), f"reading version {version}")
    return VersionInfo.from_model_version(mv)


def list_versions(name: str) -> list[VersionInfo]:
    """Every version of a registered model (empty if there is none), newest first."""
    client = tracker()
    found = _call(
        lambda: client.search_model_versions(f"name = '{_quote(name)}'"), "listing versions"
    )
    return sorted(
        (VersionInfo.from_model_version(mv) for mv in found),
        key=lambda v: int(v.version),
        reverse=True,
    )


def _quote(value: str) -> str:
    return value.replace("'", "''")


def register_run_model(
    name: str,
    run_id: str,
    model_uri: str,
    tags: dict[str, str],
    description: str = "Daily demand forecast (P10/P50/P90 per SKU, location and day).",
) -> str:
    """Register the run's model as a new version, or return the version it already has.

    ``description`` describes the registered model when this creates it.

    Re-running a date that reused its training run therefore does not create a second
    version of the same model.
    """
    client = tracker()
    try:
        _call(lambda: client.get_registered_model(name), "reading the registered model")
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        _call(
            lambda: client.create_registered_model(name, description=description),
            "creating the registered model",
        )
    existing = _call(
        lambda: client.search_model_versions(
            f"name = '{_quote(name)}' and run_id = '{_quote(run_id)}'"
        ),
        "looking up the run's version",
    )
    if existing:
        return str(max(int(v.version) for v in existing))
    version = _call(lambda: mlflow.register_model(model_uri, name, tags=tags), "registering")
    return str(version.version)


def set_version_tags(name: str, version: str, tags: dict[str, str]) -> None:
    """Set tags on a version."""
    client = tracker()

    def tag_all() -> None:
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, value)

    _call(tag_all, "tagging a version")


def set_champion(name: str, version: str) -> None:
    """Point ``@champion`` at a version (only ever one that is fully registered)."""
    client = tracker()
    mv = _call(lambda: client.get_model_version(name, version), f"reading version {version}")
    if str(getattr(mv, "status", "READY")) not in ("READY", "ModelVersionStatus.READY"):
        raise RegistryUnavailableError(f"version {version} is {mv.status}, not READY")
    _call(
        lambda: client.set_registered_model_alias(name, CHAMPION_ALIAS, version),
        "moving @champion",
    )
    log.info("%s@%s -> version %s", name, CHAMPION_ALIAS, version)


def load_version_model(name: str, version: str) -> Any:
    """One registered version as an MLflow pyfunc model (``models:/<name>/<version>``)."""
    return mlflow.pyfunc.load_model(f"models:/{name}/{version}")
