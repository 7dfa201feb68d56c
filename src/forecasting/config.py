"""Settings and run configuration, validated in one place.

Two kinds of configuration:

* :class:`Settings` -- *where* things live (data directory, source database, warehouse,
  MLflow store, the storage tasks hand their outputs over on) and the shop's timezone.
  Non-secret switches come from environment variables with safe local defaults, so a
  fresh checkout runs with nothing configured.
* :class:`PipelineConfig` -- *what* a run does (horizon, backtest windows, candidate
  models, shards, training cadence, promotion and data-check thresholds). Defaults live
  in code; the DAG derives its ``params`` from this class, and the CLI's flags override it.

This module is imported when the DAG file is parsed: it must stay light (no pandas, no
MLflow).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from forecasting.names import BASELINE_MODEL, DEFAULT_MODELS, LOWER_IS_BETTER, MODEL_NAMES

__all__ = [
    "DEFAULT_MODELS",
    "EXPERIMENT_NAME",
    "QUANTILES",
    "REGISTERED_MODEL_NAME",
    "DataChecks",
    "MonitoringPolicy",
    "PipelineConfig",
    "PromotionPolicy",
    "Settings",
    "check_timezone",
    "describe_invalid",
]

#: Quantile levels every model produces, as (P10, P50, P90).
QUANTILES: tuple[float, float, float] = (0.1, 0.5, 0.9)
#: MLflow experiment every pipeline run logs to.
EXPERIMENT_NAME = "demand_forecast"
#: MLflow registered model the daily DAG promotes to ``@champion``.
REGISTERED_MODEL_NAME = "demand_forecast"


def check_timezone(name: str) -> str:
    """Return ``name`` if it is an IANA timezone (``Europe/London``), else raise ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name!r}; use an IANA name such as 'UTC'") from exc
    return name


def describe_invalid(exc: ValidationError, name_of: Callable[[str], str] | None = None) -> str:
    """A configuration error in one line a person reads: each wrong setting by the name
    they gave it (``name_of`` maps ``checks.min_history_days`` to a CLI flag or DAG
    param), what is wrong and the value given; no framework URLs.

    Example: ``--shards: input should be greater than or equal to 1 (got 0)``.
    """
    parts = []
    for error in exc.errors(include_url=False):
        loc = [str(p) for p in error["loc"]]
        field = ".".join(loc)
        message = str(error["msg"]).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
        if field:
            name = name_of(field) if name_of else field
            if name_of and name == field and len(loc) > 1 and name_of(loc[0]) != loc[0]:
                name = f"{name_of(loc[0])}: {'.'.join(loc[1:])}"  # --model-params: hgb
            given = error.get("input")
            got = "" if isinstance(given, dict) else f" (got {given!r})"
            parts.append(f"{name}: {message}{got}")
        else:  # a rule over several fields (model_params): its message names what it checks
            parts.append(message)
    return "; ".join(parts)


@dataclass(frozen=True)
class Settings:
    """Where data, databases, storage and the MLflow store live.

    Attributes:
        data_dir: Root folder for the embedded SQLite databases and, by default, storage.
        source_url: SQLAlchemy URL of the shop database (read by extraction).
        warehouse_url: SQLAlchemy URL the scored forecasts are published to.
        tracking_uri: MLflow tracking (and registry) URI.
        artifact_root: Where new MLflow experiments store artifacts.
        storage_uri: Root every task writes its outputs under and reads its inputs from:
            a local folder by default, ``s3://bucket/prefix`` in production. Under Airflow
            it is opened as an ``ObjectStoragePath`` with the storage connection.
        shop_timezone: IANA timezone the shop's days are counted in (a "day" of demand
            is a calendar day there).
        source_timezone: Timezone of the naive timestamps in the source's ``orders`` table.
    """

    data_dir: Path
    source_url: str
    warehouse_url: str
    tracking_uri: str
    artifact_root: str
    storage_uri: str
    shop_timezone: str = "UTC"
    source_timezone: str = "UTC"

    def __post_init__(self) -> None:
        check_timezone(self.shop_timezone)
        check_timezone(self.source_timezone)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from environment variables, then explicit overrides.

        Environment variables (all optional):
            ``FORECASTING_DATA_DIR`` (default ``./.data``), ``FORECASTING_SOURCE_URL``
            (default: SQLite file ``shop.db`` in the data dir), ``FORECASTING_WAREHOUSE_URL``
            (default: the source URL), ``MLFLOW_TRACKING_URI`` (default: SQLite file
            ``mlflow.db`` in the data dir), ``FORECASTING_ARTIFACT_ROOT`` (default:
            ``mlartifacts/`` in the data dir), ``FORECASTING_STORAGE_URI`` (default:
            ``storage/`` in the data dir), ``FORECASTING_SHOP_TIMEZONE`` and
            ``FORECASTING_SOURCE_TIMEZONE`` (default ``UTC``).

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
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(
                f"FORECASTING_DATA_DIR={data_dir} (or --data-root) is not a writable folder: "
                f"{exc.strerror or exc}"
            ) from exc
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
        storage_uri = given.pop(
            "storage_uri", env.get("FORECASTING_STORAGE_URI") or (data_dir / "storage").as_uri()
        )
        shop_tz = given.pop("shop_timezone", env.get("FORECASTING_SHOP_TIMEZONE") or "UTC")
        source_tz = given.pop("source_timezone", env.get("FORECASTING_SOURCE_TIMEZONE") or "UTC")
        if given:
            raise TypeError(f"Unknown settings: {sorted(given)}")
        return cls(
            data_dir,
            source_url,
            warehouse_url,
            tracking_uri,
            artifact_root,
            storage_uri,
            shop_tz,
            source_tz,
        )


class PromotionPolicy(BaseModel):
    """When a trained candidate may become ``@champion`` (see :mod:`forecasting.registry.promotion`).

    Attributes:
        min_gain_vs_naive: The candidate's primary metric must be at least this fraction
            lower than seasonal naive's on the same windows (0.02 = 2 % better).
        champion_tolerance: The candidate may be at most this fraction worse than the
            serving champion's reference score (its live accuracy when enough actuals
            arrived since its promotion, else its recorded backtest) and still be
            promoted, because it was trained on fresher data.
        max_primary_metric: A candidate scoring above this (RMSSE 1.5: half again the error
            of a one-day-ago naive forecast) is never promoted, whatever the baseline did.
        max_abs_bias: Largest backtest bias (sum of errors over sum of actuals) accepted.
        plausibility_factor: The registered refit's forecast of a series may not exceed
            this multiple of the series' largest daily demand in the last year (a run-away
            forecast, e.g. 11,941 units a day for a SKU selling 0.45, is never promoted).
        min_live_days: Target days of actuals needed before the champion's live accuracy,
            rather than its recorded backtest, becomes the reference.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_gain_vs_naive: float = Field(0.02, ge=0.0, lt=1.0)
    champion_tolerance: float = Field(0.02, ge=0.0, le=1.0)
    max_primary_metric: float = Field(1.5, gt=0.0)
    max_abs_bias: float = Field(0.5, gt=0.0)
    plausibility_factor: float = Field(10.0, ge=1.0)
    min_live_days: int = Field(28, ge=1)


class MonitoringPolicy(BaseModel):
    """When live accuracy says the serving champion has decayed (see
    :mod:`forecasting.monitoring`).

    Attributes:
        window_days: Target days (ending on the run's day) the live accuracy and the
            published aggregates are computed over.
        min_live_days: Target days with actuals of the champion's forecasts needed before
            decay is judged (fewer: no verdict).
        rmsse_tolerance: Decay when the champion's live RMSSE exceeds its backtest RMSSE
            by more than this fraction (0.25: 25 % worse than promised).
        coverage_low: Decay when the live share of actuals inside [P10, P90] (nominal
            0.80) falls below this...
        coverage_high: ...or rises above this.
        late_days: Target days before the run's day whose accuracy rows are rewritten
            (late actuals and corrections; the demand store re-reads ``lookback_days``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_days: int = Field(28, ge=1, le=366)
    min_live_days: int = Field(7, ge=1, le=366)
    rmsse_tolerance: float = Field(0.25, ge=0.0)
    coverage_low: float = Field(0.65, ge=0.0, le=1.0)
    coverage_high: float = Field(0.95, ge=0.0, le=1.0)
    late_days: int = Field(7, ge=1, le=90)


class DataChecks(BaseModel):
    """Thresholds of the checks that stop a run before it trains or publishes.

    Attributes:
        min_series_ratio: A run that would forecast fewer than this share of the series the
            previous run published (or that this date already has) fails before touching
            the published rows.
        min_latest_day_ratio: The latest day's units must reach this share of the median of
            the same weekday over the previous four weeks (an incomplete load is caught),
            unless the day is a holiday or closure in ``calendar_events``.
        max_orphan_share: Largest share of order lines (last 28 days) whose SKU or location
            is missing or unknown to the catalogue.
        outlier_factor: A day's demand above this multiple of the series' 99th percentile
            of daily demand (and above ``outlier_min_units``) is a data error: excluded
            from training and accuracy, and counted.
        outlier_min_units: Days below this many units are never outliers.
        max_price_ratio: A catalogue list price more than this many times above or below the
            SKU's median order-line unit price (last 91 days) fails validation.
        max_key_length: Longest SKU or location id the published tables hold.
        min_history_days: Days of order history (the shop's first day with demand to the
            run's day) below which a run stops in validation (``min_history_days``). From
            this many days up, a run forecasts with what its history allows (see
            :mod:`forecasting.training.plan`); 7 (one of each weekday) by default, 1 to
            forecast from a single day.
        max_unknown_event_sku_share: Largest share of a day's ``view``, ``cart_add`` and
            ``wishlist`` web events (with a SKU) whose SKU the catalogue does not know; above
            it the event sync stops (:mod:`forecasting.behaviour.checks`). A few events of
            retired or not yet listed products are normal.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_series_ratio: float = Field(0.8, ge=0.0, le=1.0)
    min_latest_day_ratio: float = Field(0.2, ge=0.0, le=1.0)
    max_orphan_share: float = Field(0.05, ge=0.0, le=1.0)
    outlier_factor: float = Field(100.0, ge=2.0)
    outlier_min_units: float = Field(100.0, ge=0.0)
    max_price_ratio: float = Field(100.0, ge=2.0)
    max_key_length: int = Field(255, ge=1, le=255)
    min_history_days: int = Field(7, ge=1, le=366)
    max_unknown_event_sku_share: float = Field(0.05, ge=0.0, le=1.0)


class PipelineConfig(BaseModel):
    """What one pipeline run does. Frozen; build a new one to change it.

    Attributes:
        horizon: Days forecast after the run's day (and the length of a backtest window).
        n_windows: Rolling-origin backtest windows that are scored.
        calibration_windows: Extra, older windows whose residuals calibrate the quantiles of
            the first scored window (later windows use all earlier ones too).
        history_days: Days of history extracted up to the run's day.
        active_days: Forecast (and backtest) only series with positive demand in this many
            days before the origin; ``None`` forecasts every series in the extract.
        models: Candidate model names (see :mod:`forecasting.models.zoo`).
        model_params: Per-model hyperparameter overrides, e.g. ``{"hgb": {"max_iter": 50}}``.
        primary_metric: Backtest metric that ranks candidates and gates promotion.
        seed: Seed for every random choice (row sampling, network initialisation).
        force_retrain: Train even if the training cadence would reuse the champion.
        shards: Catalogue shards (by a hash of the SKU) that extraction, features, training
            and scoring fan out over; ``None`` picks one shard per 5,000 series (at most 16).
        retrain_every_days: The full backtest and refit run when the champion's data is at
            least this many days older than the run's day (or data or configuration
            changed, see :mod:`forecasting.training.cadence`); other days score with it.
        lookback_days: Days before the last extracted day that are extracted again, to pick
            up late corrections to recent orders.
        full_refresh: Ignore the incremental demand store and extract the whole window
            (for corrections older than ``lookback_days``).
        behaviour_days: Days of web events (``web_events``) the event store reads and keeps,
            ending with the run's day: behaviour features need weeks, not years; older
            months are dropped.
        explain_series: Series per shard whose forecasts are explained
            (:mod:`forecasting.explain`; ``demand_forecast_drivers`` and
            ``demand_forecast_changes``): the series whose total moved most since the
            previous run's explanations (series not explained then first), 500 by default
            (every series of a shop up to 500 per shard; at 30,000 series in 16 shards a
            quarter of them, which keeps the re-scoring to about a minute of CPU), unset
            for all, 0 for none.
        promotion: Promotion thresholds.
        checks: Data-check thresholds.
        monitoring: Live accuracy and decay thresholds.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    horizon: int = Field(28, ge=1, le=366, description="days to forecast")
    n_windows: int = Field(3, ge=1, le=52, description="scored backtest windows")
    calibration_windows: int = Field(1, ge=0, le=12, description="interval-calibration windows")
    history_days: int = Field(1095, ge=60, le=3660, description="days of history to extract")
    active_days: int | None = Field(90, ge=1, description="forecast series sold in these days")
    models: tuple[str, ...] = Field(DEFAULT_MODELS, description="candidate models")
    model_params: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description='per-model overrides, e.g. {"hgb": {"max_iter": 100}}'
    )
    primary_metric: str = Field("rmsse", description="metric that ranks and gates")
    seed: int = Field(42, description="random seed")
    force_retrain: bool = Field(
        False, description="train even if the cadence would score with the champion"
    )
    shards: int | None = Field(
        None, ge=1, le=64, description="catalogue shards (unset: one per 5,000 series, at most 16)"
    )
    retrain_every_days: int = Field(
        7, ge=1, le=366, description="retrain when the champion is this many days old"
    )
    lookback_days: int = Field(7, ge=0, le=90, description="days re-extracted for late corrections")
    full_refresh: bool = Field(
        False,
        description="extract the whole window from the source again (ignore the demand store)",
    )
    behaviour_days: int = Field(
        120, ge=7, le=3660, description="days of web events read and kept (the event store)"
    )
    explain_series: int | None = Field(
        500,
        ge=0,
        description="series per shard whose forecasts are explained, those that moved most "
        "(unset: all; 0: none)",
    )
    promotion: PromotionPolicy = Field(default_factory=PromotionPolicy)
    checks: DataChecks = Field(default_factory=DataChecks)
    monitoring: MonitoringPolicy = Field(default_factory=MonitoringPolicy)

    @field_validator("models")
    @classmethod
    def _known_models(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [m for m in value if m not in MODEL_NAMES]
        if unknown:
            raise ValueError(f"unknown models {unknown}; choose from {sorted(MODEL_NAMES)}")
        if BASELINE_MODEL not in value:
            # The promotion rule compares against it, so it is always backtested.
            value = (BASELINE_MODEL, *value)
        return tuple(dict.fromkeys(value))

    @field_validator("primary_metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in LOWER_IS_BETTER:
            raise ValueError(f"primary_metric must be one of {sorted(LOWER_IS_BETTER)}")
        return value

    @field_validator("model_params")
    @classmethod
    def _known_model_params(
        cls, value: dict[str, dict[str, Any]], info: ValidationInfo
    ) -> dict[str, dict[str, Any]]:
        """Every key names a model, and every candidate is built with its overrides and
        checked (:meth:`~forecasting.models.base.Forecaster.check_params`): a typo
        (``{"hbg": {...}}``), an unknown parameter or a value out of range stops the
        configuration -- before any data is read -- instead of being ignored or failing
        in the backtest.
        """
        if not value:
            return value
        for name, params in value.items():
            if name not in MODEL_NAMES:
                close = difflib.get_close_matches(name, MODEL_NAMES, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"unknown model {name!r}{hint}")
            if not isinstance(params, dict):
                raise ValueError(f"{name} must be an object of parameters")
        from forecasting.models.zoo import make_model  # imported only when params are given

        horizon = int(info.data.get("horizon", 28))
        for name, params in value.items():
            make_model(name, horizon=horizon, params=params, all_params=value)
        return value

    def training_payload(self) -> dict[str, Any]:
        """The settings a trained model depends on (its configuration hash is taken over
        these): not the cadence, thresholds or ``force_retrain``."""
        return self.model_dump(
            exclude={
                "force_retrain",
                "retrain_every_days",
                "lookback_days",
                "full_refresh",
                "behaviour_days",
                "explain_series",
                "promotion",
                "checks",
                "monitoring",
            }
        )
