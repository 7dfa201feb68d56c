"""``train_propensity`` and ``train_recommendations``: the training cadence, then on
training days a backtest, an MLflow run, a registered version and the promotion rule; each
pins the version its day is scored with (:mod:`forecasting.lifecycle`)."""

from __future__ import annotations

import dataclasses
import logging
import math
from datetime import date
from typing import Any

import pandas as pd

from forecasting import artifacts
from forecasting.customers.config import PROPENSITY_MODEL, RECOMMENDATIONS_MODEL, CustomerConfig
from forecasting.customers.features import LABEL_DAYS
from forecasting.pipelines.customers.handoffs import Trained, Validated
from forecasting.pipelines.customers.steps.validate import (
    read_events,
    read_lines,
    read_products,
)
from forecasting.registry.runs import log_json
from forecasting.registry.tracking import log_metrics, set_tags
from forecasting.resources import Resources
from forecasting.storage import read_json

__all__ = ["OPTOUTS_TAG", "train_model", "train_propensity_step", "train_recommendations_step"]

log = logging.getLogger(__name__)

#: Model version tag: the opt-out set (one hash) the version was trained without.
OPTOUTS_TAG = "privacy.optouts_fingerprint"
_DESCRIPTIONS = {
    PROPENSITY_MODEL: "Probability that a customer buys in the next 28 days, and expected "
    "orders (customers as keyed pseudonyms).",
    RECOMMENDATIONS_MODEL: "Top-10 products per customer for the next 28 days (customers as "
    "keyed pseudonyms).",
}


def train_propensity_step(
    run_day: date, validated: Validated, config: CustomerConfig, resources: Resources
) -> Trained:
    """Propensity: cadence, backtest, MLflow run, registration and promotion."""
    return train_model(PROPENSITY_MODEL, run_day, validated, config, resources)


def train_recommendations_step(
    run_day: date, validated: Validated, config: CustomerConfig, resources: Resources
) -> Trained:
    """Recommendations: as :func:`train_propensity_step`."""
    return train_model(RECOMMENDATIONS_MODEL, run_day, validated, config, resources)


def _retrain_after_optouts(decision: Any, kind: str, validated: Validated, champion: Any) -> Any:
    """Retrain when the version that would serve was trained before the latest opt-outs.

    Every version is tagged with :data:`OPTOUTS_TAG` (one hash of the opt-out set it was
    trained without). A model trained while a customer who has since opted out was still
    in the data is replaced at the next run: its retrained successor, fitted without
    them, serves once it beats the baselines (the old champion is no reference: it may not
    serve any more, however well it scored).
    """
    from forecasting.registry.models import list_versions
    from forecasting.training.cadence import TrainingDecision

    if decision.train:
        return decision
    serving = decision.serve_version or (champion.version if champion else None)
    version = next((v for v in list_versions(kind) if v.version == serving), champion)
    if version is None or version.tags.get(OPTOUTS_TAG) == validated.optouts_fingerprint:
        return decision
    return TrainingDecision(
        True,
        f"the opt-out list changed since v{version.version} was trained "
        f"({validated.forgotten} customers opted out in all): retraining without them",
        "optout",
        backfill=decision.backfill,
    )


def _run_tags(
    decision: Any,
    validated: Validated,
    config: CustomerConfig,
    config_hash: str,
    rows: int,
    run_day: date,
) -> tuple[dict[str, str], dict[str, Any]]:
    """The date's MLflow run's tags and params."""
    tags = {
        "data_fingerprint": validated.fingerprint,
        "config_hash": config_hash,
        "training.decision": "train" if decision.train else "reuse",
        "training.rule": decision.rule,
        "training.reason": decision.reason,
        "data.rows": str(rows),
    }
    params = {
        "data": {"first_day": validated.first_day, "last_day": run_day.isoformat()},
        "config": config.model_dump(),
    }
    return tags, params


def train_model(
    kind: str, run_day: date, validated: Validated, config: CustomerConfig, resources: Resources
) -> Trained:
    """Cadence, then (on training days) backtest, log, register and gate one model kind.

    Returns:
        The version pinned for scoring (``None``: no version may serve) and why.
    """
    from forecasting.pipelines.customers.backtests import config_hash
    from forecasting.registry.models import get_champion, list_versions
    from forecasting.registry.runs import (
        COMPLETE_TAG,
        end_stale_runs,
        find_date_run,
        start_date_run,
    )
    from forecasting.registry.tracking import configure_mlflow
    from forecasting.training.cadence import decide_training

    settings, storage = resources.settings, resources.storage
    storage.check_fence()  # a run that lost its date's lease writes nothing to MLflow
    experiment_id = configure_mlflow(settings.tracking_uri, settings.artifact_root, kind)
    end_stale_runs(experiment_id, run_day)
    hashed = config_hash(config, kind)
    champion = get_champion(kind)
    decision = decide_training(
        run_day,
        config_hash=hashed,
        fingerprint=validated.fingerprint,
        series=validated.customers,
        retrain_every_days=config.retrain_every_days,
        force_retrain=config.force_retrain,
        champion=champion,
        versions=list_versions(kind),
        previous_run=find_date_run(experiment_id, run_day),
    )
    decision = _retrain_after_optouts(decision, kind, validated, champion)
    if decision.rule == "same_run":
        return Trained(decision.serve_version, False, decision.reason)
    lines = read_lines(storage, validated)
    tags, params = _run_tags(decision, validated, config, hashed, len(lines), run_day)
    with start_date_run(experiment_id, run_day, tags, params, title=kind) as run:
        log_metrics(
            {f"data_{k}": float(v) for k, v in validated.counts.items()}
            | {"data_forgotten_customers": float(validated.forgotten)}
        )
        log_json(read_json(storage.open(validated.report_uri)), artifacts.VALIDATION_REPORT)
        outcome = Trained(decision.serve_version, False, decision.reason)
        if decision.train:
            outcome = _train_and_pin(
                kind,
                run_day,
                validated,
                lines,
                config,
                resources,
                run.info.run_id,
                champion,
                backfill=decision.backfill,
                config_hash=hashed,
            )
        set_tags(
            {
                "serving_version": outcome.version or "",
                "promotion.decision": "promoted" if outcome.promoted else "not promoted",
                "promotion.reason": outcome.reason,
                COMPLETE_TAG: "true",
            }
        )
        outcome = dataclasses.replace(outcome, run_id=run.info.run_id)
    log.info("%s %s: serving version %s (%s)", kind, run_day, outcome.version, outcome.reason)
    return outcome


def _train_and_pin(
    kind: str,
    run_day: date,
    validated: Validated,
    lines: pd.DataFrame,
    config: CustomerConfig,
    resources: Resources,
    run_id: str,
    champion: Any,
    *,
    backfill: bool,
    config_hash: str,
) -> Trained:
    """Backtest, log the winner, register it, apply the promotion rule, pin the version."""
    from forecasting.customers.serving import log_customer_model
    from forecasting.lifecycle.promotion import Evidence, decide_promotion
    from forecasting.lifecycle.serving import pin_serving_version, register_candidate
    from forecasting.pipelines.customers.backtests import backtest, live_reference
    from forecasting.registry.runs import log_frame

    products = read_products(resources.storage, validated) if kind != PROPENSITY_MODEL else None
    events = read_events(resources.storage, validated)
    result = backtest(kind, lines, run_day, config, products, events)
    metric, metrics = result.metric, result.metrics
    log_frame(result.table, artifacts.MLFLOW_BACKTEST_METRICS_CSV)
    finite = {
        k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and math.isfinite(v)
    }
    log_metrics(
        {f"backtest_{k}": v for k, v in finite.items()}
        | {f"baseline_{metric}": result.best_baseline}
    )
    model_uri = log_customer_model(result.model, "model", lines, run_day.isoformat())
    resources.storage.check_fence()  # still the date's run: register, maybe move @champion
    version = register_candidate(
        kind,
        run_id,
        model_uri,
        candidate=result.winner,
        config_hash=config_hash,
        data_end=run_day,
        series=validated.customers,
        backfill=backfill,
        backtest=finite,
        extra_tags={OPTOUTS_TAG: validated.optouts_fingerprint},
        description=_DESCRIPTIONS[kind],
    )
    live = None
    if champion is not None:
        live = live_reference(kind, run_day, lines, resources.warehouse, champion.version)
    if live is not None:
        log_metrics({f"champion_live_{metric}": live})
    # A champion trained while a customer who has since opted out was in the data may not
    # serve: the candidate trained without them is judged against the baselines alone.
    reference = champion
    if champion is not None and champion.tags.get(OPTOUTS_TAG) != validated.optouts_fingerprint:
        reference, live = None, None
    evidence = Evidence(
        candidate=result.score,
        baseline=result.best_baseline,
        candidate_is_baseline=result.winner in result.baselines,
        data_end=run_day,
        champion_version=reference.version if reference else None,
        champion_data_end=reference.data_end if reference else None,
        champion_backtest=reference.backtest.get(metric) if reference else None,
        champion_live=live,
        champion_live_days=LABEL_DAYS,
    )
    verdict = decide_promotion(config.promotion_rule(kind), evidence)
    if reference is None and champion is not None:
        verdict = dataclasses.replace(
            verdict,
            reason=f"v{champion.version} was trained before the latest opt-outs and may not "
            f"serve: {verdict.reason}",
        )
    serving = pin_serving_version(kind, version, verdict, run_day, champion, backfill)
    return Trained(
        version=serving,
        promoted=verdict.promote,
        reason=verdict.reason,
        candidate=result.winner,
        registered_version=version,
        metric=metric,
        score=result.score,
        best_baseline=result.best_baseline,
    )
