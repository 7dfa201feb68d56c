"""Settings and run configuration, validated in one place.

Two kinds of configuration:

* :class:`Settings` -- *where* things live (data directory, source database, warehouse,
  MLflow store). Non-secret switches come from environment variables with safe local
  defaults, so a fresh checkout runs with nothing configured.
* :class:`PipelineConfig` -- *what* a run does (horizon, backtest windows, candidate
  models). Defaults live in code; the DAG's ``params`` and the CLI's flags override them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "DEFAULT_MODELS",
    "EXPERIMENT_NAME",
    "QUANTILES",
    "REGISTERED_MODEL_NAME",
    "PipelineConfig",
    "Settings",
]

#: Quantile levels every model produces, as (P10, P50, P90).
QUANTILES: tuple[float, float, float] = (0.1, 0.5, 0.9)
#: MLflow experiment every pipeline run logs to.
EXPERIMENT_NAME = "demand_forecast"
#: MLflow registered model the daily DAG promotes to ``@champion``.
REGISTERED_MODEL_NAME = "demand_forecast"
#: Candidate models of a daily run, by name in :mod:`forecasting.models.zoo`.
DEFAULT_MODELS: tuple[str, ...] = (
    "seasonal_naive",
    "linear",
    "linear_hurdle",
    "hgb",
    "mlp",
    "ensemble",
)


@dataclass(frozen=True)
class Settings:
    """Where data, databases and the MLflow store live.

    Attributes:
        data_dir: Root folder for partitions, the embedded SQLite databases and MLflow.
        source_url: SQLAlchemy URL of the shop database (read by extraction).
        warehouse_url: SQLAlchemy URL the scored forecasts are published to.
        tracking_uri: MLflow tracking (and registry) URI.
        artifact_root: Where new MLflow experiments store artifacts.
    """

    data_dir: Path
    source_url: str
    warehouse_url: str
    tracking_uri: str
    artifact_root: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from environment variables, then explicit overrides.

        Environment variables (all optional):
            ``FORECASTING_DATA_DIR`` (default ``./.data``), ``FORECASTING_SOURCE_URL``
            (default: SQLite file ``shop.db`` in the data dir), ``FORECASTING_WAREHOUSE_URL``
            (default: the source URL), ``MLFLOW_TRACKING_URI`` (default: SQLite file
            ``mlflow.db`` in the data dir), ``FORECASTING_ARTIFACT_ROOT`` (default:
            ``mlartifacts/`` in the data dir).

        Args:
            env: Mapping to read instead of ``os.environ`` (for tests).
            **overrides: Field values that win over the environment; ``None`` is ignored.

        Returns:
            The resolved settings; the data directory is created if missing.
        """
        env = dict(os.environ if env is None else env)
        given = {k: v for k, v in overrides.items() if v is not None}
        data_dir = Path(given.pop("data_dir", env.get("FORECASTING_DATA_DIR", ".data")))
        data_dir = data_dir.expanduser().resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        source_url = given.pop(
            "source_url", env.get("FORECASTING_SOURCE_URL") or f"sqlite:///{data_dir / 'shop.db'}"
        )
        warehouse_url = given.pop(
            "warehouse_url", env.get("FORECASTING_WAREHOUSE_URL") or source_url
        )
        tracking_uri = given.pop(
            "tracking_uri", env.get("MLFLOW_TRACKING_URI") or f"sqlite:///{data_dir / 'mlflow.db'}"
        )
        artifact_root = given.pop(
            "artifact_root",
            env.get("FORECASTING_ARTIFACT_ROOT") or (data_dir / "mlartifacts").as_uri(),
        )
        if given:
            raise TypeError(f"Unknown settings: {sorted(given)}")
        return cls(data_dir, source_url, warehouse_url, tracking_uri, artifact_root)

    @property
    def partitions_dir(self) -> Path:
        """Folder holding one sub-folder per logical date (``ds=YYYY-MM-DD``)."""
        return self.data_dir / "partitions"


class PipelineConfig(BaseModel):
    """What one pipeline run does. Frozen; build a new one to change it.

    Attributes:
        horizon: Days forecast after the logical date (and the length of a backtest window).
        n_windows: Rolling-origin backtest windows that are scored.
        calibration_windows: Extra, older windows whose residuals calibrate the quantiles of
            the first scored window (later windows use all earlier ones too).
        history_days: Days of history extracted before the end of the data interval.
        active_days: Forecast (and backtest) only series with positive demand in this many
            days before the origin; ``None`` forecasts every series in the extract.
        models: Candidate model names (see :mod:`forecasting.models.zoo`).
        model_params: Per-model hyperparameter overrides, e.g. ``{"hgb": {"max_iter": 50}}``.
        primary_metric: Backtest metric that ranks candidates and gates promotion.
        seed: Seed for every random choice (row sampling, network initialisation).
        force_retrain: Train again even if a finished run for the same data and config exists.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    horizon: int = Field(28, ge=1, le=366)
    n_windows: int = Field(3, ge=1, le=52)
    calibration_windows: int = Field(1, ge=0, le=12)
    history_days: int = Field(1095, ge=60)
    active_days: int | None = Field(90, ge=1)
    models: tuple[str, ...] = DEFAULT_MODELS
    model_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    primary_metric: str = "rmsse"
    seed: int = 42
    force_retrain: bool = False

    @field_validator("models")
    @classmethod
    def _known_models(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from forecasting.models.zoo import MODEL_NAMES

        unknown = [m for m in value if m not in MODEL_NAMES]
        if unknown:
            raise ValueError(f"unknown models {unknown}; choose from {sorted(MODEL_NAMES)}")
        if "seasonal_naive" not in value:
            # The promotion rule compares against it, so it is always backtested.
            value = ("seasonal_naive", *value)
        return value

    @field_validator("primary_metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        from forecasting.evaluation.metrics import LOWER_IS_BETTER

        if value not in LOWER_IS_BETTER:
            raise ValueError(f"primary_metric must be one of {sorted(LOWER_IS_BETTER)}")
        return value
