"""Step ``check``: catalogue-level checks, then the training decision."""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from typing import Any

from forecasting.artifacts import VALIDATION_REPORT
from forecasting.config import REGISTERED_MODEL_NAME, PipelineConfig
from forecasting.db import retrying
from forecasting.extraction import read_catalog_snapshot
from forecasting.pipelines.demand.handoffs import ChampionFacts, Checked, Validated, WorkOrder
from forecasting.resources import Resources
from forecasting.storage import write_json
from forecasting.training.cadence import TrainingDecision

__all__ = ["check_step"]

log = logging.getLogger(__name__)


def _fingerprint(parts: list[str]) -> str:
    return hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()


def _summed(validated: list[Validated]) -> tuple[dict[str, float], dict[str, float]]:
    """Units per day and cleaning counts, summed over every shard."""
    totals: dict[str, float] = {}
    cleaning: dict[str, float] = {}
    for v in validated:
        for day, units in v.daily_units.items():
            totals[day] = totals.get(day, 0.0) + units
        for key, value in v.cleaning.items():
            cleaning[key] = cleaning.get(key, 0.0) + float(value)
    return totals, cleaning


def check_step(
    run_day: date,
    validated: list[Validated],
    orders: list[WorkOrder],
    config: PipelineConfig,
    resources: Resources,
) -> Checked:
    """Catalogue-level checks, then the training decision (see
    :mod:`forecasting.training.cadence`).

    Args:
        run_day: The run's day.
        validated: Every shard's validation.
        orders: Every shard's work order (each carries the run's source facts).
        config: Run configuration.
        resources: The task's warehouse, MLflow tracker and storage.

    Returns:
        The catalogue's facts, the training decision and plan, and the serving champion.

    Raises:
        ValidationFailedError: If a catalogue check failed.
    """
    from forecasting.training import config_hash
    from forecasting.training.plan import plan_training

    source = orders[0]  # every shard's work order carries the run's source facts
    totals, cleaning = _summed(validated)
    active = sum(v.active_series for v in validated)
    rows = sum(v.rows for v in validated)
    fingerprint = _fingerprint([v.fingerprint for v in validated])
    first_sales = [date.fromisoformat(v.first_sale) for v in validated if v.first_sale]
    report_uri, published = _catalogue_checks(
        run_day,
        validated,
        source,
        totals,
        active,
        rows,
        min(first_sales, default=None),
        config,
        resources,
    )
    chash = config_hash(config.training_payload())
    decision, champion = _training_decision(run_day, chash, fingerprint, active, config, resources)
    # Every shard backtests the same windows, on its own panel (which starts at the
    # shard's first row): the plan must fit the shard with the shortest history.
    shortest = max(first_sales, default=None)
    history = (run_day - shortest).days + 1 if shortest else 0
    plan = plan_training(history, config)
    if decision.train:
        log.info("training plan for %s: %s", run_day, plan.reason)
    return Checked(
        report_uri=report_uri,
        fingerprint=fingerprint,
        series=sum(v.series for v in validated),
        active_series=active,
        rows=rows,
        config_hash=chash,
        decision=decision,
        plan=plan,
        champion=champion,
        cleaning=cleaning,
        quality=source.quality,
        sync=source.sync,
        window=source.window,
        warnings=sum(v.warnings for v in validated),
        published=published,
        validation_reports=[v.report_uri for v in validated],
    )


def _catalogue_checks(
    run_day: date,
    validated: list[Validated],
    source: WorkOrder,
    totals: dict[str, float],
    active: int,
    rows: int,
    first_sale: date | None,
    config: PipelineConfig,
    resources: Resources,
) -> tuple[str, dict[str, Any]]:
    """Run the catalogue checks, write their report; return its URI and the published runs
    compared with.

    Raises:
        ValidationFailedError: If a check failed.
    """
    from forecasting.publishing import previous_runs
    from forecasting.validation import ValidationFailedError, ValidationReport, catalogue_checks

    storage = resources.storage
    catalog = read_catalog_snapshot(storage.open(source.catalog_uri))
    events = [
        {"ds": str(d)[:10], "kind": str(k)}
        for d, k in zip(catalog.events["ds"], catalog.events["kind"], strict=True)
    ]
    previous, same = retrying(
        lambda: previous_runs(resources.warehouse, run_day),
        "read published runs",
        resources.settings.warehouse_url,
    )
    findings = catalogue_checks(
        run_day,
        totals=totals,
        series=active,
        first_sale=first_sale,
        events=events,
        quality=source.quality,
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
        write_json(folder / VALIDATION_REPORT, report.to_dict())
    report_uri = storage.uri(folder / VALIDATION_REPORT)
    if not report.success:
        raise ValidationFailedError(report, report_uri)
    return report_uri, {"previous": previous, "same_date": same}


def _training_decision(
    run_day: date,
    chash: str,
    fingerprint: str,
    active: int,
    config: PipelineConfig,
    resources: Resources,
) -> tuple[TrainingDecision, ChampionFacts | None]:
    """Whether today trains, and the serving champion's facts."""
    from forecasting.registry.models import get_champion, list_versions
    from forecasting.registry.runs import find_date_run
    from forecasting.training.cadence import decide_training

    experiment_id = resources.experiment_id
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
    if champion is None:
        return decision, None
    facts = ChampionFacts(
        version=champion.version,
        data_end=champion.data_end.isoformat() if champion.data_end else None,
        promoted_on=champion.promoted_on.isoformat() if champion.promoted_on else None,
        backtest=champion.backtest,
    )
    return decision, facts
