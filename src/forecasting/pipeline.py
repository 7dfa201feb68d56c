"""The daily pipeline's steps, callable from Airflow tasks and from the CLI alike.

Each step takes the logical date, :class:`~forecasting.config.Settings` and
:class:`~forecasting.config.PipelineConfig` plus the *references* the previous step
returned (folder paths, MLflow run ids) and returns a small JSON-ready dict. Every step
is idempotent for its logical date: outputs are written to that date's partition
(replaced atomically), the training run is reused when data and configuration are
unchanged, and publishing replaces the date's rows in one transaction.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.config import EXPERIMENT_NAME, REGISTERED_MODEL_NAME, PipelineConfig, Settings
from forecasting.db import make_engine
from forecasting.extraction.extract import (
    EXTRACT_COLUMNS,
    ExtractWindow,
    extract_partition,
    read_partition,
)
from forecasting.storage import atomic_dir, partition_dir

__all__ = [
    "build_features_step",
    "extract_step",
    "publish_step",
    "register_step",
    "run_pipeline",
    "score_step",
    "train_step",
    "validate_step",
]

log = logging.getLogger(__name__)


def extract_step(logical_date: date, settings: Settings, config: PipelineConfig) -> dict[str, Any]:
    """Extract the run's window from the source database into its partition.

    Returns:
        ``path`` of the extract folder, ``rows``, ``series``, ``fingerprint`` and the window.
    """
    window = ExtractWindow.for_logical_date(logical_date, config.history_days, config.horizon)
    out = partition_dir(settings.partitions_dir, logical_date, "extract")
    result = extract_partition(make_engine(settings.source_url), window, out)
    return result.to_dict()


def validate_step(extract_path: str) -> dict[str, Any]:
    """Validate the extract with the Great Expectations suite.

    Returns:
        ``report_path``, ``expectations`` and ``rows`` when every expectation held.

    Raises:
        ValidationFailedError: Naming the failed expectations, the table and sample rows;
            the report is still written to ``validation.json``.
    """
    from forecasting.validation import ValidationFailedError, validate_partition

    manifest = json.loads((Path(extract_path) / "manifest.json").read_text())
    window = manifest["window"]
    last_day = ExtractWindow(
        date.fromisoformat(window["start"]),
        date.fromisoformat(window["end"]),
        date.fromisoformat(window["horizon_end"]),
    ).last_day
    report = validate_partition(
        extract_path, date.fromisoformat(window["start"]), last_day, EXTRACT_COLUMNS
    )
    report_path = str(Path(extract_path) / "validation.json")
    if not report.success:
        raise ValidationFailedError(report, report_path)
    return {
        "report_path": report_path,
        "expectations": len(report.findings),
        "rows": report.row_count,
    }


def build_features_step(
    logical_date: date, extract_path: str, settings: Settings
) -> dict[str, Any]:
    """Turn the extract into the model-ready panel (history, future covariates, calendar).

    The panel is what every model's declared features are computed from, in training and
    in scoring alike. ``features.json`` lists the generated feature names.

    Returns:
        ``path`` of the features folder, ``series``, ``history_days``, ``future_days``,
        ``features`` (names) and the data ``fingerprint``.
    """
    from forecasting.features import FeatureSpec, Panel

    demand, future, events, manifest = read_partition(extract_path)
    panel = Panel.from_long(demand, future, events)
    spec = FeatureSpec()
    out = partition_dir(settings.partitions_dir, logical_date, "features")
    info = {
        "path": str(out),
        "series": panel.n_series,
        "history_days": panel.n_history,
        "future_days": len(panel.dates) - panel.n_history,
        "features": spec.feature_names(),
        "fingerprint": manifest["fingerprint"],
        "window": manifest["window"],
        "extract_rows": manifest["rows"],
    }
    with atomic_dir(out) as tmp:
        panel.save(tmp / "panel")
        (tmp / "features.json").write_text(json.dumps({"spec": spec.to_dict(), **info}, indent=2))
    return info


def _panel(features_path: str) -> Any:
    from forecasting.features import Panel

    return Panel.load(Path(features_path) / "panel")


def train_step(
    logical_date: date,
    features_path: str,
    settings: Settings,
    config: PipelineConfig,
    validation_report: str | None = None,
) -> dict[str, Any]:
    """Backtest the candidates, fit the winner on all history and log it to MLflow.

    A finished run for the same logical date, data fingerprint and configuration is
    reused (unless ``config.force_retrain``), so re-running a date does not train again.

    Returns:
        :class:`~forecasting.training.TrainingOutcome` as a dict.
    """
    from forecasting.registry.tracking import configure_mlflow, find_finished_run
    from forecasting.training import TrainingOutcome, config_hash, train_and_log

    info = json.loads((Path(features_path) / "features.json").read_text())
    experiment_id = configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    tags = {
        "logical_date": logical_date.isoformat(),
        "data_fingerprint": info["fingerprint"][:32],
        "config_hash": config_hash(config.model_dump(exclude={"force_retrain"})),
    }
    if not config.force_retrain:
        existing = find_finished_run(experiment_id, tags)
        if existing:
            log.info(
                "reusing finished run %s for %s (same data and config)", existing, logical_date
            )
            return _outcome_from_run(existing).to_dict()
    outcome: TrainingOutcome = train_and_log(
        _panel(features_path),
        config,
        logical_date=logical_date,
        experiment_id=experiment_id,
        run_tags=tags,
        registered_model=REGISTERED_MODEL_NAME,
        data_info={
            "window": info["window"],
            "extract_rows": info["extract_rows"],
            "series": info["series"],
        },
        artifacts=[p for p in (validation_report, Path(features_path) / "features.json") if p],
    )
    return outcome.to_dict()


def _outcome_from_run(run_id: str) -> Any:
    import mlflow

    from forecasting.training import TrainingOutcome

    run = mlflow.MlflowClient().get_run(run_id)
    metrics = run.data.metrics

    def group(prefix: str) -> dict[str, float]:
        return {k[len(prefix) + 1 :]: v for k, v in metrics.items() if k.startswith(prefix + "_")}

    return TrainingOutcome(
        run_id=run_id,
        model_uri=run.data.tags["candidate.model_uri"],
        candidate=run.data.tags["candidate.name"],
        metrics=group("backtest"),
        baseline_metrics=group("baseline"),
        champion_metrics=group("champion") or None,
        reused=True,
    )


def register_step(
    train: dict[str, Any], settings: Settings, config: PipelineConfig
) -> dict[str, Any]:
    """Register the run's model and move ``@champion`` if the promotion rule says so.

    The decision and its reason are logged to the training run and the model version.

    Returns:
        ``version``, ``promoted``, ``reason``, ``champion_version`` (after the decision).
    """
    import mlflow

    from forecasting.registry.models import get_champion, register_run_model, set_champion
    from forecasting.registry.promotion import decide_promotion
    from forecasting.registry.tracking import configure_mlflow

    configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    metric = config.primary_metric
    run_id = train["run_id"]
    version = register_run_model(
        REGISTERED_MODEL_NAME,
        run_id,
        train["model_uri"],
        tags={
            "candidate": train["candidate"],
            f"backtest_{metric}": f"{train['metrics'][metric]:.6f}",
        },
    )
    champion = get_champion(REGISTERED_MODEL_NAME)
    if champion is not None and champion.version == version:
        decision = {"promote": True, "reason": f"version {version} is already @champion"}
    else:
        champ_metrics = train.get("champion_metrics")
        result = decide_promotion(
            metric,
            candidate=float(train["metrics"][metric]),
            baseline=float(train["baseline_metrics"][metric]),
            champion=None
            if champion is None or not champ_metrics
            else float(champ_metrics[metric]),
            candidate_is_baseline=train["candidate"] == "seasonal_naive",
        )
        decision = result.to_dict()
        if result.promote:
            set_champion(REGISTERED_MODEL_NAME, version)
    client = mlflow.MlflowClient()
    client.set_tag(run_id, "promotion.decision", "promoted" if decision["promote"] else "rejected")
    client.set_tag(run_id, "promotion.reason", str(decision["reason"]))
    client.set_model_version_tag(
        REGISTERED_MODEL_NAME, version, "promotion.reason", str(decision["reason"])
    )
    after = get_champion(REGISTERED_MODEL_NAME)
    log.info("model version %s: %s", version, decision["reason"])
    return {
        "version": version,
        "promoted": bool(decision["promote"]),
        "reason": str(decision["reason"]),
        "champion_version": after.version if after else None,
    }


def score_step(
    logical_date: date, features_path: str, settings: Settings, config: PipelineConfig
) -> dict[str, Any]:
    """Forecast the next ``horizon`` days with the ``@champion`` model.

    Returns:
        ``path`` of the scores folder, ``rows``, ``series``, ``model_version``, ``run_id``.

    Raises:
        RuntimeError: If there is no ``@champion`` yet (nothing is scored or published).
    """
    from forecasting.registry.tracking import configure_mlflow
    from forecasting.scoring import score_with_champion

    configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    panel = _panel(features_path)
    scores, meta = score_with_champion(
        panel, REGISTERED_MODEL_NAME, config.horizon, config.active_days
    )
    out = partition_dir(settings.partitions_dir, logical_date, "scores")
    with atomic_dir(out) as tmp:
        scores.to_parquet(tmp / "forecasts.parquet", index=False)
        (tmp / "model.json").write_text(json.dumps(meta, indent=2))
    return {
        "path": str(out),
        "rows": len(scores),
        "series": int(scores["unique_id"].nunique()),
        **meta,
    }


def publish_step(
    logical_date: date, scores_path: str, settings: Settings, config: PipelineConfig
) -> dict[str, Any]:
    """Replace the date's rows in ``demand_forecast`` and ``forecast_runs`` in one transaction.

    Returns:
        ``rows`` written, the warehouse ``table`` and the run metadata.
    """
    from forecasting.publishing import PublishedRun, publish_forecasts

    forecasts = pd.read_parquet(Path(scores_path) / "forecasts.parquet")
    meta = json.loads((Path(scores_path) / "model.json").read_text())
    run = PublishedRun(
        run_date=logical_date,
        model_name=meta["model_name"],
        model_version=meta["model_version"],
        mlflow_run_id=meta["run_id"],
        horizon_days=config.horizon,
        series_count=int(forecasts["unique_id"].nunique()),
        row_count=len(forecasts),
    )
    rows = publish_forecasts(make_engine(settings.warehouse_url), forecasts, run)
    return {"rows": rows, "table": "demand_forecast", **run.to_dict()}


def run_pipeline(
    logical_date: date, settings: Settings, config: PipelineConfig
) -> dict[str, dict[str, Any]]:
    """Run every step in order without Airflow (what the CLI's ``run`` does).

    Returns:
        Each step's result by step name.
    """
    results: dict[str, dict[str, Any]] = {}
    results["extract"] = extract_step(logical_date, settings, config)
    results["validate"] = validate_step(results["extract"]["path"])
    results["build_features"] = build_features_step(
        logical_date, results["extract"]["path"], settings
    )
    results["train"] = train_step(
        logical_date,
        results["build_features"]["path"],
        settings,
        config,
        results["validate"]["report_path"],
    )
    results["register"] = register_step(results["train"], settings, config)
    results["score"] = score_step(logical_date, results["build_features"]["path"], settings, config)
    results["publish"] = publish_step(logical_date, results["score"]["path"], settings, config)
    return results
