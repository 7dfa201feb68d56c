"""Register a candidate, pin the version that serves a day, score through pyfunc.

The same for the demand forecast and both customer models: a trained candidate becomes a
new registered version tagged with what it was trained on; the promotion decision is
recorded on it and moves ``@champion`` when it promotes; the day is then scored with the
*pinned* version (never "whatever ``@champion`` is now"), loaded as an MLflow pyfunc model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from forecasting.lifecycle.promotion import PromotionDecision

if TYPE_CHECKING:
    from forecasting.registry.models import VersionInfo

__all__ = [
    "load_pinned_model",
    "pin_serving_version",
    "register_candidate",
    "score_pinned",
]


def register_candidate(
    name: str,
    run_id: str,
    model_uri: str,
    *,
    candidate: str,
    config_hash: str,
    data_end: date,
    series: int,
    backfill: bool,
    backtest: Mapping[str, Any],
    extra_tags: Mapping[str, str] | None = None,
    description: str | None = None,
) -> str:
    """Register the run's model as a new version (or return the one it already has),
    tagged with what :class:`~forecasting.registry.models.VersionInfo` reads back.

    Args:
        name: Registered model name.
        run_id: The MLflow run that logged the model.
        model_uri: The logged model's URI.
        candidate: The winning candidate's name.
        config_hash: Hash of the training configuration.
        data_end: Last day of the data it was trained on.
        series: Series (or customers) it was trained on.
        backfill: Trained for a past date.
        backtest: Its backtest metrics; finite numbers become ``backtest_<name>`` tags.
        extra_tags: Further tags.
        description: The registered model's description when this creates it.

    Returns:
        The version.
    """
    from forecasting.registry.models import register_run_model

    tags = {
        "candidate": candidate,
        "config_hash": config_hash,
        "data_end": data_end.isoformat(),
        "series": str(series),
        "backfill": "true" if backfill else "false",
        **dict(extra_tags or {}),
        **{
            f"backtest_{k}": f"{float(v):.6f}"
            for k, v in backtest.items()
            if isinstance(v, (int, float)) and math.isfinite(v)
        },
    }
    if description is None:
        return register_run_model(name, run_id, model_uri, tags=tags)
    return register_run_model(name, run_id, model_uri, tags=tags, description=description)


def pin_serving_version(
    name: str,
    version: str,
    decision: PromotionDecision,
    run_day: date,
    champion: VersionInfo | None,
    backfill: bool,
) -> str | None:
    """Record a promotion decision on the new version (and the active run), move
    ``@champion`` if it was promoted, and return the version that serves the day.

    Args:
        name: Registered model name.
        version: The version just registered.
        decision: The rule's decision on it.
        run_day: The run's day.
        champion: The champion before this decision (``None``: none).
        backfill: The run is a backfill (a past date).

    Returns:
        The new version if promoted (or, on a backfill, the day's own never-promoted
        model), else the champion's (not on a backfill), else ``None``.
    """
    import mlflow

    from forecasting.registry.models import set_champion, set_version_tags

    set_version_tags(
        name,
        version,
        {
            "promotion.decision": "promoted" if decision.promote else "not promoted",
            "promotion.reason": decision.reason,
        },
    )
    mlflow.set_tag("promotion.rule", decision.rule)
    if decision.promote:
        set_version_tags(name, version, {"promoted_on": run_day.isoformat()})
        set_champion(name, version)
        return version
    if backfill and decision.rule == "not_backwards":
        return version  # the day's own model: never promoted, but it may serve its day
    if champion is not None and not backfill:
        return champion.version
    return None


def load_pinned_model(name: str, version: str) -> Any:
    """The pinned version of a registered model, as an MLflow pyfunc model (through the
    registry's wrapper, :func:`~forecasting.registry.models.load_version_model`)."""
    from forecasting.registry.models import load_version_model

    return load_version_model(name, version)


def score_pinned(
    name: str, version: str, frame: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Score ``frame`` with the pinned version through pyfunc (index reset)."""
    out = load_pinned_model(name, version).predict(frame, params=params)
    return pd.DataFrame(out).reset_index(drop=True)
