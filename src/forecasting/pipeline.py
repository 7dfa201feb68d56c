"""The daily pipeline's steps, callable from Airflow tasks and from the CLI alike.

Each step takes the run's day, :class:`~forecasting.config.Settings`,
:class:`~forecasting.config.PipelineConfig`, the :class:`~forecasting.storage.Storage` every
worker reaches, and the *references* earlier steps returned (storage URIs, shard ids,
model versions); it returns a small JSON-ready dict. Steps marked *per shard* run once
per catalogue shard (mapped tasks in the DAG); the others run once per date.

Every step is idempotent for its day: outputs are written to that day's folders on
storage and committed atomically (a new attempt replaces the last), training is skipped
when the cadence or an identical earlier run says so, and publishing replaces the day's
rows in one transaction. Only ``sync_source`` reads the shop's database.

    sync_source -> extract* -> validate* -> check -> build_features* -> backtest* -> fit*
                -> register -> score* -> publish                   (* per shard)
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasting.config import EXPERIMENT_NAME, REGISTERED_MODEL_NAME, PipelineConfig, Settings
from forecasting.db import dialect_of, make_engine, retrying
from forecasting.errors import NoChampionError
from forecasting.evaluation.leadtime import LEADTIME_ARTIFACT
from forecasting.extraction import (
    DemandStore,
    ExtractWindow,
    assemble_extract,
    check_source_schema,
    read_catalog,
    read_catalog_snapshot,
    read_line_quality,
    read_partition,
    write_catalog_snapshot,
    write_partition,
)
from forecasting.leases import Lease, begin_run, end_run, process_holder, run_lease_key
from forecasting.names import BASELINE_MODEL, DEMAND_PIPELINE
from forecasting.sharding import Shard, resolve_shard_count
from forecasting.storage import Storage, read_json, read_parquet, write_json, write_parquet

__all__ = [
    "backtest_step",
    "build_features_step",
    "check_step",
    "extract_step",
    "fit_step",
    "publish_step",
    "register_step",
    "run_pipeline",
    "score_step",
    "sync_source_step",
    "validate_step",
]

log = logging.getLogger(__name__)

#: Model version tag: the version serves although it was not promoted, because no champion
#: could serve its date and nothing beat the seasonal naive baseline (see register).
FALLBACK_TAG = "serving.fallback"
#: How long a run waits for another run's sync of the shared demand store to finish (a
#: first sync at 30,000 series reads 24 million order lines in about 3 minutes).
STORE_SYNC_WAIT = timedelta(minutes=30)


def _fingerprint(parts: list[str]) -> str:
    return hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()


# --------------------------------------------------------------------------- extraction
def sync_source_step(
    run_day: date,
    settings: Settings,
    config: PipelineConfig,
    storage: Storage,
) -> list[dict[str, Any]]:
    """Read the source database once: schema check, catalogue, quality counts, new demand.

    Brings the incremental demand store up to ``run_day`` (days not yet extracted plus
    ``lookback_days``), snapshots the catalogue for the run, and decides the shards.

    Returns:
        One work order per shard (what the DAG maps over): the ``shard``, and the run's
        ``catalog_uri``, ``store_uri``, ``window``, ``quality`` counts and ``sync`` facts
        (rows read, seconds, rows per second).

    Raises:
        SchemaDriftError: If a source table or column is missing.
    """
    engine = make_engine(settings.source_url)
    url = settings.source_url
    retrying(lambda: check_source_schema(engine), "check source schema", url)
    window = ExtractWindow.for_logical_date(run_day, config.history_days, config.horizon)
    zones = (settings.shop_timezone, settings.source_timezone)
    catalog = retrying(
        lambda: read_catalog(engine, window.start, window.horizon_end),
        "read catalogue",
        url,
    )
    quality = retrying(lambda: read_line_quality(engine, run_day, *zones), "count lines", url)
    store = DemandStore.for_source(storage.root, url, *zones)
    # The store serves every date: one sync at a time, whichever run (or date) asks.
    writer = Lease(
        make_engine(settings.warehouse_url),
        f"store/demand/{store.root.name}",
        process_holder("sync"),
    )
    try:
        with writer.held(wait=STORE_SYNC_WAIT.total_seconds()):
            sync = retrying(
                lambda: store.sync(
                    engine,
                    window.start,
                    run_day,
                    lookback_days=config.lookback_days,
                    shop_tz=settings.shop_timezone,
                    source_tz=settings.source_timezone,
                    full_refresh=config.full_refresh,
                ),
                "extract demand",
                url,
            )
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        raise storage.full(exc, f"the demand store sync of {run_day}", store.root) from exc
    n_shards = resolve_shard_count(config.shards, len(catalog.products) * len(catalog.locations))
    with storage.write_stage(run_day, "catalog") as folder:
        write_catalog_snapshot(catalog, folder)
        write_json(folder / "source.json", {"quality": quality, "sync": sync.to_dict()})
    source = {
        "catalog_uri": storage.uri(folder),
        "store_uri": sync.store_uri,
        "window": window.to_dict(),
        "quality": quality,
        "sync": sync.to_dict(),
    }
    return [{**source, "shard": s.to_dict()} for s in Shard.all(n_shards)]


def extract_step(
    run_day: date,
    source: dict[str, Any],
    config: PipelineConfig,
    storage: Storage,
) -> dict[str, Any]:
    """*Per shard*: the shard's history, future covariates and events, from the store.

    Args:
        run_day: The run's day.
        source: The shard's work order from :func:`sync_source_step`.
        config: Run configuration.
        storage: Shared storage.

    Returns:
        :class:`~forecasting.extraction.ExtractResult` as a dict (``uri`` of the extract)
        and the ``catalog_uri`` validation reads.
    """
    part = Shard.from_dict(source["shard"])
    window = ExtractWindow.from_dict(source["window"])
    catalog = read_catalog_snapshot(storage.open(source["catalog_uri"]))
    store = DemandStore(storage.path(source["store_uri"]))
    from forecasting.extraction.extract import shard_products

    skus = set(shard_products(catalog.products, part)["sku"])
    demand = store.read(window.start, window.last_day, skus)
    extract = assemble_extract(
        demand,
        catalog,
        window,
        part,
        outlier_factor=config.checks.outlier_factor,
        outlier_min_units=config.checks.outlier_min_units,
    )
    with storage.write_stage(run_day, "extract", part.name) as folder:
        result = write_partition(folder, extract, window, part)
    return {**result.to_dict(), "catalog_uri": source["catalog_uri"]}


def validate_step(
    run_day: date,
    extracted: dict[str, Any],
    config: PipelineConfig,
    storage: Storage,
) -> dict[str, Any]:
    """*Per shard*: the Great Expectations suites on the shard's extract.

    The report is written to storage either way (``validate/<shard>/validation.json``).

    Returns:
        ``report_uri``, ``extract_uri``, the shard and the facts the catalogue checks use.

    Raises:
        ValidationFailedError: Naming each failed rule, its table and sample rows.
    """
    from forecasting.validation import ValidationFailedError, validate_shard

    part = Shard.from_dict(extracted["shard"])
    window = ExtractWindow.from_dict(extracted["window"])
    report, facts = validate_shard(
        storage.open(extracted["uri"]),
        part,
        window,
        config.horizon,
        config.active_days,
        config.checks,
    )
    with storage.write_stage(run_day, "validate", part.name) as folder:
        write_json(folder / "validation.json", report.to_dict())
    report_uri = storage.uri(folder / "validation.json")
    if not report.success:
        raise ValidationFailedError(report, report_uri)
    return {
        "report_uri": report_uri,
        "extract_uri": extracted["uri"],
        "shard": part.to_dict(),
        "window": extracted["window"],
        **facts,
    }


def check_step(
    run_day: date,
    validated: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    settings: Settings,
    config: PipelineConfig,
    storage: Storage,
) -> dict[str, Any]:
    """Catalogue-level checks, then the training decision (see
    :mod:`forecasting.training.cadence`).

    Returns:
        ``report_uri``, ``fingerprint`` (all shards), ``series``, ``active_series``,
        ``rows``, ``decision``, ``plan`` (the backtest the shop's history allows, see
        :mod:`forecasting.training.plan`), ``config_hash``, ``champion`` (serving version
        facts), ``cleaning`` and ``quality`` counts, and the published runs compared with.

    Raises:
        ValidationFailedError: If a catalogue check failed.
    """
    from forecasting.publishing import previous_runs
    from forecasting.registry.models import get_champion, list_versions
    from forecasting.registry.runs import find_date_run
    from forecasting.registry.tracking import configure_mlflow
    from forecasting.training import config_hash
    from forecasting.training.cadence import decide_training
    from forecasting.training.plan import plan_training
    from forecasting.validation import ValidationFailedError, ValidationReport, catalogue_checks

    source = sources[0]  # every shard's work order carries the run's source facts
    totals: dict[str, float] = {}
    cleaning: dict[str, float] = {}
    for v in validated:
        for day, units in v["daily_units"].items():
            totals[day] = totals.get(day, 0.0) + units
        for key, value in v["cleaning"].items():
            cleaning[key] = cleaning.get(key, 0.0) + float(value)
    series = sum(int(v["series"]) for v in validated)
    active = sum(int(v["active_series"]) for v in validated)
    rows = sum(int(v["rows"]) for v in validated)
    fingerprint = _fingerprint([v["fingerprint"] for v in validated])
    catalog = read_catalog_snapshot(storage.open(source["catalog_uri"]))
    events = [
        {"ds": str(d)[:10], "kind": str(k)}
        for d, k in zip(catalog.events["ds"], catalog.events["kind"], strict=True)
    ]
    warehouse = make_engine(settings.warehouse_url)
    previous, same = retrying(
        lambda: previous_runs(warehouse, run_day), "read published runs", settings.warehouse_url
    )
    first_sales = [date.fromisoformat(v["first_sale"]) for v in validated if v.get("first_sale")]
    first_sale = min(first_sales, default=None)
    findings = catalogue_checks(
        run_day,
        totals=totals,
        series=active,
        first_sale=first_sale,
        events=events,
        quality=source["quality"],
        previous=previous,
        same_date=same,
        checks=config.checks,
    )
    report = ValidationReport(
        subject=f"catalogue for {run_day} ({len(validated)} shards)",
        success=all(f.success for f in findings),
        tables={"demand (all shards)": rows},
        findings=findings,
    )
    with storage.write_stage(run_day, "check") as folder:
        write_json(folder / "validation.json", report.to_dict())
    report_uri = storage.uri(folder / "validation.json")
    if not report.success:
        raise ValidationFailedError(report, report_uri)

    experiment_id = configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    chash = config_hash(config.training_payload())
    champion = get_champion(REGISTERED_MODEL_NAME)
    decision = decide_training(
        run_day,
        config_hash=chash,
        fingerprint=fingerprint,
        series=active,
        retrain_every_days=config.retrain_every_days,
        force_retrain=config.force_retrain,
        champion=champion,
        versions=list_versions(REGISTERED_MODEL_NAME),
        previous_run=find_date_run(experiment_id, run_day),
    )
    log.info("training decision for %s: %s", run_day, decision.reason)
    # Every shard backtests the same windows, on its own panel (which starts at the
    # shard's first row): the plan must fit the shard with the shortest history.
    shortest = max(first_sales, default=None)
    history = (run_day - shortest).days + 1 if shortest else 0
    plan = plan_training(history, config)
    if decision.train:
        log.info("training plan for %s: %s", run_day, plan.reason)
    return {
        "report_uri": report_uri,
        "fingerprint": fingerprint,
        "series": series,
        "active_series": active,
        "rows": rows,
        "config_hash": chash,
        "decision": decision.to_dict(),
        "plan": plan.to_dict(),
        "champion": None
        if champion is None
        else {
            "version": champion.version,
            "data_end": champion.data_end.isoformat() if champion.data_end else None,
            "promoted_on": champion.promoted_on.isoformat() if champion.promoted_on else None,
            "backtest": champion.backtest,
        },
        "cleaning": cleaning,
        "quality": source["quality"],
        "sync": source["sync"],
        "window": source["window"],
        "warnings": sum(int(v.get("warnings", 0)) for v in validated),
        "published": {"previous": previous, "same_date": same},
        "validation_reports": [v["report_uri"] for v in validated],
    }


# --------------------------------------------------------------------------- features
def build_features_step(
    run_day: date, validated: dict[str, Any], storage: Storage
) -> dict[str, Any]:
    """*Per shard*: the panel every model's declared features are computed from.

    Returns:
        ``uri`` of the features folder, the shard, ``series``, ``history_days``,
        ``future_days``.
    """
    from forecasting.features import FeatureSpec, Panel

    part = Shard.from_dict(validated["shard"])
    extract, manifest = read_partition(storage.open(validated["extract_uri"]))
    spec = FeatureSpec()
    info: dict[str, Any] = {
        "shard": part.to_dict(),
        "series": int(extract.history["unique_id"].nunique()),
    }
    with storage.write_stage(run_day, "features", part.name) as folder:
        if info["series"]:
            panel = Panel.from_long(extract.history, extract.future, extract.events)
            with tempfile.TemporaryDirectory() as tmp:
                from forecasting.storage import upload_dir

                upload_dir(panel.save(Path(tmp) / "panel"), folder / "panel")
            info.update(
                history_days=panel.n_history, future_days=len(panel.dates) - panel.n_history
            )
        write_json(
            folder / "features.json",
            {
                "spec": spec.to_dict(),
                "names": spec.feature_names(),
                "window": manifest["window"],
                **info,
            },
        )
    return {"uri": storage.uri(folder), **info}


def _panel(storage: Storage, features: dict[str, Any]) -> Any:
    from forecasting.features import Panel
    from forecasting.storage import download_dir

    with tempfile.TemporaryDirectory() as tmp:
        local = download_dir(storage.open(features["uri"]) / "panel", Path(tmp) / "panel")
        return Panel.load(local)


# --------------------------------------------------------------------------- training
def _skip(step: dict[str, Any], checked: dict[str, Any], what: str) -> dict[str, Any] | None:
    if not checked["decision"]["train"]:
        log.info("%s skipped: %s", what, checked["decision"]["reason"])
        return {"shard": step["shard"], "skipped": True, "reason": checked["decision"]["reason"]}
    if not step.get("series"):
        return {"shard": step["shard"], "skipped": True, "reason": "the shard has no series"}
    return None


def backtest_step(
    run_day: date,
    features: dict[str, Any],
    checked: dict[str, Any],
    settings: Settings,
    config: PipelineConfig,
    storage: Storage,
) -> dict[str, Any]:
    """*Per shard*: backtest every candidate; score the serving champion's live forecasts.

    Skipped (returns ``skipped``) when the training decision says the run scores with an
    existing version.

    Returns:
        ``uri`` of the backtest folder, the shard, ``series`` and ``live_days``.
    """
    skipped = _skip(features, checked, "backtest")
    if skipped:
        return skipped
    plan = _plan(checked)
    if not plan.backtest:
        log.info("backtest skipped: %s", plan.reason)
        return {"shard": features["shard"], "skipped": True, "reason": plan.reason}
    from forecasting.evaluation.live import live_stats
    from forecasting.training.shard import backtest_shard, shard_config

    part = Shard.from_dict(features["shard"])
    panel = _panel(storage, features)
    share = features["series"] / checked["series"]
    result = backtest_shard(
        panel, plan.apply(shard_config(config, share)), min_train_days=plan.min_train_days
    )
    champion = checked.get("champion")
    live, live_days = None, 0
    if champion and champion.get("promoted_on"):
        warehouse = make_engine(settings.warehouse_url)
        live, live_days = retrying(
            lambda: live_stats(
                warehouse,
                REGISTERED_MODEL_NAME,
                champion["version"],
                date.fromisoformat(champion["promoted_on"]),
                run_day,
                panel,
            ),
            "read published forecasts",
            settings.warehouse_url,
        )
    with storage.write_stage(run_day, "backtest", part.name) as folder:
        write_parquet(result.stats, folder / "stats.parquet")
        write_json(folder / "candidates.json", result.candidates)
        write_parquet(result.plot, folder / "plot.parquet")
        write_parquet(result.plot_history, folder / "plot_history.parquet")
        write_parquet(result.leadtime, folder / "leadtime.parquet")
        if live is not None:
            write_parquet(live, folder / "live_stats.parquet")
    return {
        "uri": storage.uri(folder),
        "shard": part.to_dict(),
        "series": panel.n_series,
        "live_days": live_days,
    }


def _backtest_summary(
    storage: Storage, backtests: list[dict[str, Any]]
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Every shard's statistics, and per candidate the summed seconds and non-finite rows."""
    done = [b for b in backtests if not b.get("skipped")]
    stats = pd.concat(
        [read_parquet(storage.open(b["uri"]) / "stats.parquet") for b in done], ignore_index=True
    )
    info: dict[str, dict[str, Any]] = {}
    for b in done:
        for label, c in read_json(storage.open(b["uri"]) / "candidates.json").items():
            entry = info.setdefault(label, {"seconds": 0.0, "nonfinite": 0, "peak_memory_mb": 0.0})
            entry["seconds"] += float(c["seconds"])
            entry["nonfinite"] += int(c["nonfinite"])
            entry["peak_memory_mb"] = max(entry["peak_memory_mb"], float(c["peak_memory_mb"] or 0))
    return stats, info


def _plan(checked: dict[str, Any]) -> Any:
    from forecasting.training.plan import TrainingPlan

    return TrainingPlan.from_dict(checked["plan"])


def _winner(
    storage: Storage, backtests: list[dict[str, Any]], config: PipelineConfig
) -> tuple[str, dict[str, dict[str, float]], pd.DataFrame, dict[str, dict[str, Any]]]:
    from forecasting.training import pick_winner
    from forecasting.training.shard import catalogue_metrics

    stats, info = _backtest_summary(storage, backtests)
    metrics, windows = catalogue_metrics(stats)
    disqualified = frozenset(k for k, v in info.items() if v["nonfinite"])
    winner = pick_winner(metrics, config.primary_metric, config.models, disqualified)
    return winner, metrics, windows, info


def fit_step(
    run_day: date,
    features: dict[str, Any],
    backtests: list[dict[str, Any]],
    checked: dict[str, Any],
    config: PipelineConfig,
    storage: Storage,
) -> dict[str, Any]:
    """*Per shard*: fit the catalogue's winner on the shard's whole history.

    The winner is the candidate with the best catalogue-level backtest (every shard
    computes the same choice from the same statistics). The refit's forecast is checked
    for plausibility; the result feeds the promotion rule.

    Returns:
        ``uri`` (the fitted model below it), the shard, ``winner``, ``plausibility``.
    """
    skipped = _skip(features, checked, "fit")
    if skipped:
        return skipped
    from forecasting.storage import upload_dir
    from forecasting.training.shard import fit_shard, plausibility, shard_config

    part = Shard.from_dict(features["shard"])
    plan = _plan(checked)
    if plan.backtest:
        winner, _, _, _ = _winner(storage, backtests, plan.apply(config))
        own = next(b for b in backtests if b["shard"] == features["shard"])
        calibrator = read_json(storage.open(own["uri"]) / "candidates.json")[winner]["calibrator"]
    else:  # too little history to backtest: the baseline, with its own intervals
        from forecasting.evaluation.calibration import IntervalCalibrator

        winner, calibrator = BASELINE_MODEL, IntervalCalibrator.identity().to_dict()
    panel = _panel(storage, features)
    shard = plan.apply(shard_config(config, features["series"] / checked["series"]))
    model = fit_shard(panel, shard, winner, calibrator)
    active = (
        panel.active_series(panel.last_history_index, config.active_days)
        if config.active_days
        else np.ones(panel.n_series, dtype=bool)
    )
    forecast = model.predict(panel, config.horizon, series=np.flatnonzero(active))
    check = plausibility(forecast, panel, config.promotion.plausibility_factor)
    with storage.write_stage(run_day, "fit", part.name) as folder:
        with tempfile.TemporaryDirectory() as tmp:
            upload_dir(model.save(Path(tmp) / "model"), folder / "model")
        write_json(folder / "fit.json", {"winner": winner, "plausibility": check})
    return {
        "uri": storage.uri(folder),
        "shard": part.to_dict(),
        "winner": winner,
        "plausibility": check,
    }


def register_step(
    run_day: date,
    fitted: list[dict[str, Any]],
    backtests: list[dict[str, Any]],
    checked: dict[str, Any],
    settings: Settings,
    config: PipelineConfig,
    storage: Storage,
) -> dict[str, Any]:
    """Log the date's MLflow run; on training days register the model and apply the
    promotion rule; in every case pin the version this run scores with.

    Returns:
        ``version`` (pinned for scoring; ``None`` if no model may serve), ``promoted``,
        ``reason``, ``run_id`` (the date's MLflow run) and the training ``decision``.
    """
    from forecasting.registry.runs import end_stale_runs
    from forecasting.registry.tracking import configure_mlflow

    storage.check_fence()  # a run that lost its date's lease writes nothing to MLflow
    experiment_id = configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    end_stale_runs(experiment_id, run_day)
    decision = checked["decision"]
    if decision["rule"] == "same_run":
        return {
            "version": decision["serve_version"],
            "promoted": False,
            "reason": decision["reason"],
            "run_id": "",
            "decision": decision,
        }
    from forecasting.registry.runs import COMPLETE_TAG, find_date_run, log_json, start_date_run

    previous = find_date_run(experiment_id, run_day)
    tags = {
        "data_fingerprint": checked["fingerprint"],
        "config_hash": checked["config_hash"],
        "training.decision": "train" if decision["train"] else "reuse",
        "training.rule": decision["rule"],
        "training.reason": decision["reason"],
    }
    if previous and previous["fingerprint"] != checked["fingerprint"]:
        tags["data.changed_since_run"] = previous["run_id"]
        tags["data.previous_fingerprint"] = previous["fingerprint"]
    params = {
        "data": {
            "window": checked.get("window") or "",
            "rows": checked["rows"],
            "series": checked["series"],
            "active_series": checked["active_series"],
        },
        "config": config.model_dump(exclude={"model_params"}),
        "model_params": config.model_params,
    }
    metrics = {
        "data_rows": float(checked["rows"]),
        "data_series": float(checked["series"]),
        "data_active_series": float(checked["active_series"]),
        **{f"cleaning_{k}": float(v) for k, v in checked["cleaning"].items()},
        **{f"quality_{k}": float(v) for k, v in checked["quality"].items()},
        "source_rows_read": float(checked["sync"]["rows"]),
        "source_rows_per_second": float(checked["sync"].get("rows_per_second") or 0.0),
        "validation_warnings": float(checked.get("warnings", 0)),
    }
    if previous and previous.get("rows") and previous["fingerprint"] != checked["fingerprint"]:
        metrics["data_rows_change"] = float(checked["rows"]) - float(previous["rows"])

    import mlflow

    with start_date_run(experiment_id, run_day, tags, params) as run:
        mlflow.log_metrics(metrics)
        mlflow.set_tag("data.rows", str(checked["rows"]))
        log_json(read_json(storage.open(checked["report_uri"])), "validation/catalogue.json")
        for uri in checked["validation_reports"]:
            log_json(
                read_json(storage.open(uri)), f"validation/{Path(uri).parent.parent.name}.json"
            )
        if decision["train"]:
            outcome = _register_trained(
                run_day, fitted, backtests, checked, settings, config, storage, run.info.run_id
            )
        else:
            outcome = {
                "version": decision["serve_version"],
                "promoted": False,
                "reason": decision["reason"],
            }
        mlflow.set_tags(
            {
                "serving_version": outcome["version"] or "",
                "promotion.decision": "promoted" if outcome["promoted"] else "not promoted",
                "promotion.reason": outcome["reason"],
                COMPLETE_TAG: "true",
            }
        )
        run_id = run.info.run_id
    log.info("run %s: serving version %s (%s)", run_day, outcome["version"], outcome["reason"])
    return {**outcome, "run_id": run_id, "decision": decision}


def _register_trained(
    run_day: date,
    fitted: list[dict[str, Any]],
    backtests: list[dict[str, Any]],
    checked: dict[str, Any],
    settings: Settings,
    config: PipelineConfig,
    storage: Storage,
    run_id: str,
) -> dict[str, Any]:
    """The training-day half of :func:`register_step` (inside the date's MLflow run)."""
    import mlflow

    from forecasting.registry.models import apply_decision, get_champion, register_run_model
    from forecasting.registry.promotion import GateInputs, PromotionDecision, decide_promotion
    from forecasting.registry.runs import log_json

    plan = _plan(checked)
    done = [f for f in fitted if not f.get("skipped")]
    metric = config.primary_metric
    if plan.backtest:
        winner, metrics, champion_live, live_days = _log_backtest(
            storage, backtests, plan.apply(config)
        )
    else:
        winner, metrics, champion_live, live_days = BASELINE_MODEL, {}, None, 0
        mlflow.set_tags({"backtest.skipped": "true", "backtest.reason": plan.reason})
    mlflow.set_tag("training.plan", plan.reason)
    if {f["winner"] for f in done} != {winner}:
        raise RuntimeError(f"shards disagree on the winner: {[f['winner'] for f in done]}")
    implausible = sum(int(f["plausibility"]["implausible"]) for f in done)
    log_json({f"shard {f['shard']['index']}": f["plausibility"] for f in done}, "plausibility.json")
    mlflow.log_metric("refit_implausible_series", float(implausible))
    model_uri = _log_sharded_model(storage, run_day, done, winner, config)
    mlflow.set_tags(
        {
            "candidate.name": winner,
            "candidate.config_hash": checked["config_hash"],
            "candidate.model_uri": model_uri,
        }
    )
    champion = get_champion(REGISTERED_MODEL_NAME)
    backfill = bool(checked["decision"]["backfill"])
    scores = metrics.get(winner, {})
    storage.check_fence()  # still the date's run: register, and maybe move @champion
    version = register_run_model(
        REGISTERED_MODEL_NAME,
        run_id,
        model_uri,
        tags={
            "candidate": winner,
            "config_hash": checked["config_hash"],
            "data_end": run_day.isoformat(),
            "series": str(checked["active_series"]),
            "backfill": "true" if backfill else "false",
            **{f"backtest_{k}": f"{v:.6f}" for k, v in scores.items() if np.isfinite(v)},
        },
    )
    if plan.backtest:
        gate = GateInputs(
            metric=metric,
            candidate=float(metrics[winner][metric]),
            baseline=float(metrics[BASELINE_MODEL][metric]),
            bias=float(metrics[winner]["bias"]),
            candidate_is_baseline=winner == BASELINE_MODEL,
            implausible_series=implausible,
            data_end=run_day,
            champion_version=None if champion is None else champion.version,
            champion_data_end=None if champion is None else champion.data_end,
            champion_backtest=None if champion is None else champion.backtest.get(metric),
            champion_live=None if champion_live is None else champion_live.get(metric),
            champion_live_days=live_days,
        )
        decision = decide_promotion(config.promotion, gate)
    else:
        nan = float("nan")
        decision = PromotionDecision(
            False, f"{plan.reason}: not promoted", "not_backtested", metric, nan, nan
        )
    serving = apply_decision(REGISTERED_MODEL_NAME, version, decision, run_day, champion, backfill)
    reason = decision.reason
    if plan.backtest and plan.skipped:
        reason += f" ({plan.reason})"
    sane = not scores or scores[metric] <= config.promotion.max_primary_metric
    if serving is None and winner == BASELINE_MODEL and not implausible and sane:
        # Nothing beats the baseline yet (a new shop, or a short history) and no champion
        # serves this date: the baseline does, unpromoted, rather than nothing at all.
        from forecasting.registry.models import set_version_tags

        serving = version
        set_version_tags(REGISTERED_MODEL_NAME, version, {FALLBACK_TAG: "true"})
        reason += (
            f"; no champion serves {run_day}: the seasonal naive baseline v{version} "
            "serves (not promoted) until a candidate beats it"
        )
    return {
        "version": serving,
        "promoted": decision.promote,
        "reason": reason,
        "registered_version": version,
        "candidate": winner,
    }


def _log_backtest(
    storage: Storage, backtests: list[dict[str, Any]], config: PipelineConfig
) -> tuple[str, dict[str, dict[str, float]], dict[str, float] | None, int]:
    """Log every candidate's backtest to the date's MLflow run: child runs, tables, the
    winner's plot and lead-time coverage, the serving champion's live accuracy.

    Returns:
        The winner, every candidate's metrics, the champion's live metrics (``None``
        without any) and the target days behind them.
    """
    import mlflow

    from forecasting.evaluation.metrics import metrics_from_stats
    from forecasting.evaluation.plots import plot_backtest_frames
    from forecasting.registry.runs import log_candidates, log_frame
    from forecasting.training import candidate_config, metrics_table

    winner, metrics, windows, info = _winner(storage, backtests, config)
    configs = {name: candidate_config(config, name) for name in metrics}
    log_candidates(metrics, windows, configs, info)
    table = metrics_table(metrics, info)
    log_frame(table, "backtest_metrics.csv")
    log_frame(windows, "backtest_windows.csv")
    mlflow.log_table(table, "backtest_metrics.json")
    done = [b for b in backtests if not b.get("skipped")]
    plot = pd.concat(
        [read_parquet(storage.open(b["uri"]) / "plot.parquet") for b in done], ignore_index=True
    )
    history = pd.concat(
        [read_parquet(storage.open(b["uri"]) / "plot_history.parquet") for b in done],
        ignore_index=True,
    )
    import matplotlib.pyplot as plt

    figure = plot_backtest_frames(plot.loc[plot["candidate"] == winner], history)
    mlflow.log_figure(figure, "backtest_plot.png")
    plt.close(figure)
    _log_leadtime(storage, done, winner, config)

    def prefixed(prefix: str, values: dict[str, float]) -> dict[str, float]:
        return {f"{prefix}_{k}": v for k, v in values.items() if np.isfinite(v)}

    mlflow.log_metrics(prefixed("backtest", metrics[winner]))
    mlflow.log_metrics(prefixed("baseline", metrics[BASELINE_MODEL]))
    live_frames = [
        read_parquet(storage.open(b["uri"]) / "live_stats.parquet")
        for b in done
        if (storage.open(b["uri"]) / "live_stats.parquet").exists()
    ]
    live_days = max((int(b.get("live_days", 0)) for b in done), default=0)
    champion_live = None
    if live_frames and sum(len(f) for f in live_frames):
        champion_live = metrics_from_stats(pd.concat(live_frames, ignore_index=True))
        mlflow.log_metrics(prefixed("champion_live", champion_live))
    return winner, metrics, champion_live, live_days


def _log_sharded_model(
    storage: Storage,
    run_day: date,
    done: list[dict[str, Any]],
    winner: str,
    config: PipelineConfig,
) -> str:
    """Every shard's fitted model as one pyfunc model in the active run; returns its URI."""
    from forecasting.models.base import load_forecaster
    from forecasting.models.naive import SeasonalNaive
    from forecasting.models.sharded import ShardedForecaster
    from forecasting.registry.pyfunc import log_forecaster
    from forecasting.storage import download_dir

    with tempfile.TemporaryDirectory() as tmp:
        by_shard = {
            int(f["shard"]["index"]): load_forecaster(
                download_dir(
                    storage.open(f["uri"]) / "model", Path(tmp) / f"shard{f['shard']['index']}"
                )
            )
            for f in done
        }
        count = int(done[0]["shard"]["count"])
        # A shard without series today gets seasonal naive, so a SKU that hashes there later
        # still gets a forecast.
        members = [by_shard.get(k) or SeasonalNaive().fitted_empty() for k in range(count)]
        model = ShardedForecaster(members, winner)
        example = _panel(storage, {"uri": _features_uri(storage, run_day, done[0])})
        return log_forecaster(model, example, config.horizon)


def _log_leadtime(
    storage: Storage, backtests: list[dict[str, Any]], winner: str, config: PipelineConfig
) -> None:
    """Fit the winner's lead-time quantiles on every shard's backtest totals; log their
    backtest coverage (each window calibrated on earlier ones) and the fitted model
    (``leadtime_calibration.json``, read back when scoring with this run's version)."""
    import mlflow

    from forecasting.evaluation.leadtime import LeadTimeCalibrator, leadtime_coverage
    from forecasting.registry.runs import log_frame, log_json

    frames = [
        read_parquet(storage.open(b["uri"]) / "leadtime.parquet")
        for b in backtests
        if (storage.open(b["uri"]) / "leadtime.parquet").exists()
    ]
    if not frames:
        return
    totals = pd.concat(frames, ignore_index=True)
    totals = totals.loc[totals["candidate"] == winner]
    coverage = leadtime_coverage(totals, config.calibration_windows)
    log_frame(coverage, "leadtime_coverage.csv")
    for row in coverage.to_dict(orient="records"):
        mlflow.log_metrics(
            {
                f"leadtime_{int(row['days'])}d_coverage_{c}": float(row[c])
                for c in coverage.columns
                if c.startswith("p")
            }
        )
    log_json(LeadTimeCalibrator.fit(totals).to_dict(), LEADTIME_ARTIFACT)


def _features_uri(storage: Storage, run_day: date, fitted: dict[str, Any]) -> str:
    part = Shard.from_dict(fitted["shard"])
    committed = storage.committed(run_day, "features", part.name)
    if committed is None:
        raise RuntimeError(f"features of {part.name} for {run_day} are missing")
    return storage.uri(committed)


# --------------------------------------------------------------------------- serving
def score_step(
    run_day: date,
    features: dict[str, Any],
    registered: dict[str, Any],
    config: PipelineConfig,
    storage: Storage,
    settings: Settings,
) -> dict[str, Any]:
    """*Per shard*: forecast the next ``horizon`` days with the version ``register`` pinned.

    Returns:
        ``uri`` of the scores folder, the shard, ``rows``, ``series``, the model's
        ``model_name``, ``model_version`` and ``run_id``.

    Raises:
        NoChampionError: If no version may serve (no champion yet and the candidate was
            not promoted).
        BadForecastError: If the forecasts break their contract.
    """
    from forecasting.registry.tracking import configure_mlflow
    from forecasting.scoring import score_panel

    version = registered.get("version")
    if not version:
        raise NoChampionError(
            f"no model version may serve {run_day}: {registered.get('reason')}; nothing is "
            "scored or published"
        )
    part = Shard.from_dict(features["shard"])
    configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    if features.get("series"):
        panel = _panel(storage, features)
        scores, meta = score_panel(
            panel,
            REGISTERED_MODEL_NAME,
            str(version),
            config.horizon,
            config.active_days,
            config.promotion.plausibility_factor,
        )
    else:
        scores = pd.DataFrame(
            columns=[
                "unique_id",
                "sku",
                "location_id",
                "ds",
                "horizon",
                "forecast",
                "p10",
                "p50",
                "p90",
            ]
        )
        meta = {"model_name": REGISTERED_MODEL_NAME, "model_version": str(version), "run_id": ""}
    leadtime = _leadtime_quantiles(scores, meta["run_id"])
    with storage.write_stage(run_day, "scores", part.name) as folder:
        write_parquet(scores, folder / "forecasts.parquet")
        if leadtime is not None:
            write_parquet(leadtime, folder / "leadtime.parquet")
        write_json(folder / "model.json", meta)
    return {
        "uri": storage.uri(folder),
        "shard": part.to_dict(),
        "rows": len(scores),
        "series": int(scores["unique_id"].nunique()),
        **meta,
    }


def _leadtime_quantiles(scores: pd.DataFrame, run_id: str) -> pd.DataFrame | None:
    """Lead-time quantiles of a shard's daily forecasts with the model version's fitted
    quantiles (``None`` for a version registered without them)."""
    import mlflow

    from forecasting.evaluation.leadtime import LeadTimeCalibrator, leadtime_totals

    if not run_id or not len(scores):
        return None
    names = {a.path for a in mlflow.MlflowClient().list_artifacts(run_id)}
    if LEADTIME_ARTIFACT not in names:
        log.warning("run %s has no %s: no lead-time quantiles", run_id, LEADTIME_ARTIFACT)
        return None
    calibrator = LeadTimeCalibrator(
        **mlflow.artifacts.load_dict(f"runs:/{run_id}/{LEADTIME_ARTIFACT}")
    )
    totals = calibrator.quantiles(
        leadtime_totals(scores.loc[:, ["unique_id", "horizon", "forecast"]])
    )
    keys = scores.drop_duplicates("unique_id").loc[:, ["unique_id", "sku", "location_id"]]
    return totals.merge(keys, on="unique_id").rename(columns={"m": "forecast"})


def publish_step(
    run_day: date,
    scored: list[dict[str, Any]],
    settings: Settings,
    config: PipelineConfig,
    storage: Storage,
) -> dict[str, Any]:
    """Replace the day's rows in ``demand_forecast`` and ``forecast_runs``: every shard's
    forecasts in one transaction, after the checks of
    :func:`~forecasting.publishing.publish_forecasts`.

    Returns:
        ``rows`` written, the warehouse ``table`` and the run metadata.
    """
    from forecasting.publishing import PublishedRun, publish_forecasts

    frames = [read_parquet(storage.open(s["uri"]) / "forecasts.parquet") for s in scored]
    lead_paths = [storage.open(s["uri"]) / "leadtime.parquet" for s in scored]
    lead_frames = [read_parquet(p) for p in lead_paths if p.exists()]
    leadtime = pd.concat(lead_frames, ignore_index=True) if lead_frames else None
    forecasts = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else frames[0]
    )
    versions = {s["model_version"] for s in scored}
    if len(versions) != 1:
        raise RuntimeError(f"shards were scored with different versions: {sorted(versions)}")
    run_ids = sorted({s["run_id"] for s in scored if s["run_id"]})
    run = PublishedRun(
        run_date=run_day,
        model_name=REGISTERED_MODEL_NAME,
        model_version=versions.pop(),
        mlflow_run_id=run_ids[0] if run_ids else "",
        horizon_days=config.horizon,
        series_count=int(forecasts["unique_id"].nunique()) if len(forecasts) else 0,
        row_count=len(forecasts),
    )
    storage.check_fence()  # a run that lost its date's lease never publishes
    rows = publish_forecasts(
        make_engine(settings.warehouse_url),
        forecasts,
        run,
        min_series_ratio=config.checks.min_series_ratio,
        max_key_length=config.checks.max_key_length,
        leadtime=leadtime,
    )
    return {
        "rows": rows,
        "table": "demand_forecast",
        "leadtime_rows": 0 if leadtime is None else len(leadtime),
        **run.to_dict(),
    }


# --------------------------------------------------------------------------- monitoring
def monitor_step(
    run_day: date,
    features: list[dict[str, Any]],
    source: dict[str, Any],
    settings: Settings,
    config: PipelineConfig,
    storage: Storage,
) -> dict[str, Any]:
    """Join published forecasts with the actuals that arrived, write ``forecast_accuracy``
    and the day's aggregates in one transaction, judge the champion's decay (see
    :mod:`forecasting.monitoring`), log its live metrics to MLflow.

    Returns:
        ``rows`` written (target days joined whole), ``updated`` (rows whose late actual
        changed), ``summary_rows``, the ``window`` and the decay ``verdict`` (``None``
        without a champion); the summary is also written to the run's ``monitor`` stage
        for the report.
    """
    import sqlalchemy as sa

    from forecasting.db import insert_frame, read_frame, render_sql
    from forecasting.extraction.extract import read_catalog_snapshot
    from forecasting.monitoring import (
        ACCURACY_COLUMNS,
        accuracy_rows,
        judge_decay,
        lag_metrics_from_sums,
        panel_actuals,
        summarise_stats,
        target_window,
        unjoined_rows,
    )
    from forecasting.publishing import ensure_forecast_tables
    from forecasting.registry.models import get_champion, set_version_tags
    from forecasting.registry.runs import MONITORING_EXPERIMENT_SUFFIX, log_live_metrics
    from forecasting.registry.tracking import configure_mlflow
    from forecasting.training.cadence import DECAY_TAG

    policy = config.monitoring
    warehouse = make_engine(settings.warehouse_url)
    url = settings.warehouse_url
    retrying(lambda: ensure_forecast_tables(warehouse), "create forecast tables", url)
    late_first, last = target_window(run_day, policy.late_days)
    window_first, _ = target_window(run_day, policy.window_days)
    late = {"first_target": late_first.isoformat(), "last_target": last.isoformat()}
    counts = retrying(
        lambda: read_frame(warehouse, "monitoring/count_by_target", late), "count rows", url
    )
    # Target days joined whole: today, and any day whose rows do not match what was
    # published (a backfilled run date, a day monitoring did not run).
    whole = sorted(
        {last}
        | {
            pd.Timestamp(t).date()
            for t, published, written in counts.itertuples(index=False)
            if int(published) != int(written)
        }
    )

    def forecasts_for(day: date) -> pd.DataFrame:
        bounds = {"first_target": day.isoformat(), "last_target": day.isoformat()}
        return read_frame(warehouse, "monitoring/select_forecasts_for_targets", bounds)

    published = pd.concat(
        [retrying(partial(forecasts_for, d), "read published forecasts", url) for d in whole],
        ignore_index=True,
    )
    earlier = (
        retrying(
            lambda: read_frame(
                warehouse,
                "monitoring/select_stored_actuals",
                {
                    "first_target": late_first.isoformat(),
                    "last_target": (last - timedelta(days=1)).isoformat(),
                },
            ),
            "read stored actuals",
            url,
        )
        if late_first < last
        else pd.DataFrame(columns=["target_date", "sku", "location_id", "actual"])
    )
    earlier = earlier.loc[~pd.to_datetime(earlier["target_date"]).dt.date.isin(whole)]
    catalog = read_catalog_snapshot(storage.open(source["catalog_uri"]))
    categories = catalog.products.drop_duplicates("sku").set_index("sku")["category"]
    parts, changed = [], []
    for f in features:
        if not f.get("series"):
            continue
        panel = _panel(storage, f)
        parts.append(accuracy_rows(published, panel, categories))
        today, found = panel_actuals(earlier, panel)
        stored = earlier["actual"].to_numpy(float)
        moved = found & ~((today == stored) | (np.isnan(today) & np.isnan(stored)))
        changed.append(earlier.loc[moved].assign(actual=today[moved]))
    rows = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=list(ACCURACY_COLUMNS))
    )
    if len(published):
        extra = unjoined_rows(published, rows, categories)
        rows = pd.concat([f for f in (rows, extra) if len(f)] or [rows], ignore_index=True)
    updates = pd.concat(changed, ignore_index=True) if changed else earlier.iloc[:0]
    dialect = dialect_of(warehouse)
    update_records = _records(updates.loc[:, ["target_date", "sku", "location_id", "actual"]])
    window = {"first_target": window_first.isoformat(), "last_target": last.isoformat()}
    aggregates: dict[str, Any] = {}

    def transaction() -> None:
        with warehouse.begin() as conn:
            delete = sa.text(render_sql("monitoring/delete_accuracy", dialect))
            for d in whole:
                conn.execute(delete, {"first_target": d.isoformat(), "last_target": d.isoformat()})
            insert_frame(conn, "monitoring/insert_accuracy", rows)
            if update_records:
                conn.execute(
                    sa.text(render_sql("monitoring/update_actual", dialect)), update_records
                )
            # The window's aggregates, computed by the warehouse over what was just written.
            for name in ("select_accuracy_stats", "select_accuracy_by_lag", "select_live_days"):
                sql = sa.text(render_sql(f"monitoring/{name}", dialect))
                aggregates[name] = pd.read_sql(sql, conn, params=window)
            stats = aggregates["select_accuracy_stats"].astype({"model_version": str})
            aggregates["select_accuracy_stats"] = stats
            summary = summarise_stats(
                stats,
                lag_metrics_from_sums(aggregates["select_accuracy_by_lag"]),
                run_day,
                window_first,
            )
            aggregates["summary"] = summary
            key = {"monitor_date": run_day.isoformat()}
            conn.execute(sa.text(render_sql("monitoring/delete_accuracy_summary", dialect)), key)
            if len(summary):
                conn.execute(
                    sa.text(render_sql("monitoring/insert_accuracy_summary", dialect)),
                    _records(summary),
                )

    storage.check_fence()
    retrying(transaction, "write accuracy", url)
    stats, summary = aggregates["select_accuracy_stats"], aggregates["summary"]
    days = {str(v): int(n) for v, n in aggregates["select_live_days"].itertuples(index=False)}
    log.info(
        "monitoring: %d rows joined (target days %s), %d late actuals updated, %d summary rows",
        len(rows),
        ", ".join(d.isoformat() for d in whole),
        len(updates),
        len(summary),
    )
    configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    champion = get_champion(REGISTERED_MODEL_NAME)
    verdict = None
    if champion is not None and len(stats):
        verdict = judge_decay(
            stats,
            days.get(str(champion.version), 0),
            champion.version,
            champion.backtest.get("rmsse"),
            policy,
        )
        tags = {
            "monitoring.checked_on": run_day.isoformat(),
            "monitoring.live_days": str(verdict.live_days),
            "monitoring.verdict": verdict.reason,
        }
        if verdict.decayed:
            tags[DECAY_TAG] = "true"
            log.warning("DECAY: %s; the next run retrains", verdict.reason)
        else:
            log.info("monitoring: %s", verdict.reason)
        set_version_tags(REGISTERED_MODEL_NAME, champion.version, tags)
        if verdict.live_days:
            experiment = configure_mlflow(
                settings.tracking_uri,
                settings.artifact_root,
                EXPERIMENT_NAME + MONITORING_EXPERIMENT_SUFFIX,
            )
            log_live_metrics(
                experiment,
                REGISTERED_MODEL_NAME,
                champion.version,
                run_day,
                verdict.live,
                champion.backtest,
            )
    with storage.write_stage(run_day, "monitor") as folder:
        write_parquet(summary, folder / "summary.parquet")
        write_json(folder / "verdict.json", None if verdict is None else verdict.to_dict())
    return {
        "rows": len(rows),
        "updated": len(updates),
        "summary_rows": len(summary),
        "window": [window_first.isoformat(), last.isoformat()],
        "uri": storage.uri(folder),
        "verdict": None if verdict is None else verdict.to_dict(),
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts for executemany: dates as ISO strings, NaN as NULL."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, (date, pd.Timestamp)):
                clean[key] = pd.Timestamp(value).date().isoformat()
            elif isinstance(value, (float, np.floating)):
                clean[key] = None if not np.isfinite(value) else float(value)
            elif isinstance(value, np.integer):
                clean[key] = int(value)
            else:
                clean[key] = value
        out.append(clean)
    return out


# --------------------------------------------------------------------------- all steps
def run_pipeline(
    run_day: date,
    settings: Settings,
    config: PipelineConfig,
    storage: Storage | None = None,
    holder: str | None = None,
    lease_wait: float = 0.0,
) -> dict[str, Any]:
    """Run every step in order without Airflow (what the CLI's ``run`` does).

    The run holds the date's lease (see :mod:`forecasting.leases`) from the first step to
    the last, renewed in the background; every commit checks it is still held.

    Args:
        run_day: The run's day.
        settings: Where things live.
        config: What the run does.
        storage: Shared storage (default: ``settings.storage_uri``).
        holder: Lease holder id (default: this process, ``cli:<host>:<pid>:<id>``).
        lease_wait: Seconds to wait for another run of the date to finish.

    Returns:
        Each step's result by step name (per-shard steps as lists).

    Raises:
        LeaseHeldError: If another run holds the date.
    """
    storage = storage or Storage.from_uri(settings.storage_uri)
    lease = Lease(
        make_engine(settings.warehouse_url),
        run_lease_key(DEMAND_PIPELINE, run_day),
        holder or process_holder(),
    )
    out: dict[str, Any] = {"lease": begin_run(run_day, lease, storage, lease_wait)}
    try:
        with lease.kept_alive():
            out.update(_run_steps(run_day, settings, config, storage.fenced(lease.renew)))
    finally:
        end_run(lease)
    return out


def _run_steps(
    run_day: date, settings: Settings, config: PipelineConfig, storage: Storage
) -> dict[str, Any]:
    def step(name: str) -> contextlib.AbstractContextManager[None]:
        return _naming_a_full_disk(name, run_day, storage)

    with step("sync_source"):
        sources = sync_source_step(run_day, settings, config, storage)
    with step("extract"):
        extracted = [extract_step(run_day, s, config, storage) for s in sources]
    with step("validate"):
        validated = [validate_step(run_day, e, config, storage) for e in extracted]
    with step("check"):
        checked = check_step(run_day, validated, sources, settings, config, storage)
    with step("build_features"):
        features = [build_features_step(run_day, v, storage) for v in validated]
    with step("backtest"):
        backtests = [
            backtest_step(run_day, f, checked, settings, config, storage) for f in features
        ]
    with step("fit"):
        fitted = [fit_step(run_day, f, backtests, checked, config, storage) for f in features]
    with step("register"):
        registered = register_step(run_day, fitted, backtests, checked, settings, config, storage)
    with step("score"):
        scored = [score_step(run_day, f, registered, config, storage, settings) for f in features]
    with step("publish"):
        published = publish_step(run_day, scored, settings, config, storage)
    with step("monitor"):
        monitored = monitor_step(run_day, features, sources[0], settings, config, storage)
    from forecasting.planner_report import write_report

    with step("report"):
        reported = write_report(run_day, settings, storage)
    return {
        "sync_source": sources,
        "extract": extracted,
        "validate": validated,
        "check": checked,
        "build_features": features,
        "backtest": backtests,
        "fit": fitted,
        "register": registered,
        "score": scored,
        "publish": published,
        "monitor": monitored,
        "report": reported,
    }


@contextlib.contextmanager
def _naming_a_full_disk(step: str, run_day: date, storage: Storage) -> Iterator[None]:
    """Turn a bare ``[Errno 28] No space left on device`` into one that names the step
    and the file (stage writes already name their stage)."""
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        raise storage.full(exc, f"step {step} of {run_day}") from exc
