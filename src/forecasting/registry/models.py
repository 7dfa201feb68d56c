"""Model registry operations: register a run's model, read and move ``@champion``."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException

from forecasting.registry.promotion import CHAMPION_ALIAS

__all__ = ["ChampionInfo", "get_champion", "register_run_model", "set_champion"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChampionInfo:
    """The current champion version and the configuration it was trained with."""

    version: str
    run_id: str
    candidate: str
    params: dict[str, Any]
    config_hash: str


def get_champion(name: str) -> ChampionInfo | None:
    """The ``@champion`` version of a registered model, or ``None`` if there is none."""
    client = mlflow.MlflowClient()
    try:
        version = client.get_model_version_by_alias(name, CHAMPION_ALIAS)
    except MlflowException:
        return None
    run = client.get_run(str(version.run_id))
    params = json.loads(run.data.tags.get("candidate.params", "{}"))
    return ChampionInfo(
        version=str(version.version),
        run_id=str(version.run_id),
        candidate=run.data.tags.get("candidate.name", ""),
        params=params,
        config_hash=run.data.tags.get("candidate.config_hash", ""),
    )


def register_run_model(name: str, run_id: str, model_uri: str, tags: dict[str, str]) -> str:
    """Register the run's model as a new version, or return the version it already has.

    Re-running a logical date that reused its training run therefore does not create a
    second version of the same model.
    """
    client = mlflow.MlflowClient()
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(
            name, description="Daily demand forecast (P10/P50/P90 per SKU, location and day)."
        )
    existing = client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
    if existing:
        return str(max(int(v.version) for v in existing))
    version = mlflow.register_model(model_uri, name, tags=tags)
    return str(version.version)


def set_champion(name: str, version: str) -> None:
    """Point ``@champion`` at a version."""
    mlflow.MlflowClient().set_registered_model_alias(name, CHAMPION_ALIAS, version)
    log.info("%s@%s -> version %s", name, CHAMPION_ALIAS, version)
