"""Step ``validate`` (per shard): the Great Expectations suites on the shard's extract."""

from __future__ import annotations

from datetime import date

from forecasting.artifacts import VALIDATION_REPORT
from forecasting.config import PipelineConfig
from forecasting.pipelines.demand.handoffs import Extracted, Validated
from forecasting.resources import Resources
from forecasting.storage import write_json

__all__ = ["validate_step"]


def validate_step(
    run_day: date, extracted: Extracted, config: PipelineConfig, resources: Resources
) -> Validated:
    """*Per shard*: the Great Expectations suites on the shard's extract.

    The report is written to storage either way (``validate/<shard>/validation.json``).

    Args:
        run_day: The run's day.
        extracted: The shard's extract.
        config: Run configuration (horizon, active days, checks).
        resources: The task's storage.

    Returns:
        The report's URI, the extract, the shard and the facts the catalogue checks use.

    Raises:
        ValidationFailedError: Naming each failed rule, its table and sample rows.
    """
    from forecasting.validation import ValidationFailedError, validate_shard

    storage = resources.storage
    report, facts = validate_shard(
        storage.open(extracted.uri),
        extracted.shard,
        extracted.window,
        config.horizon,
        config.active_days,
        config.checks,
    )
    with storage.write_stage(run_day, "validate", extracted.shard.name) as folder:
        write_json(folder / VALIDATION_REPORT, report.to_dict())
    report_uri = storage.uri(folder / VALIDATION_REPORT)
    if not report.success:
        raise ValidationFailedError(report, report_uri)
    return Validated(
        report_uri=report_uri,
        extract_uri=extracted.uri,
        shard=extracted.shard,
        window=extracted.window,
        series=int(facts["series"]),
        active_series=int(facts["active_series"]),
        rows=int(facts["rows"]),
        fingerprint=str(facts["fingerprint"]),
        first_sale=facts["first_sale"],
        daily_units=facts["daily_units"],
        cleaning=facts["cleaning"],
        warnings=int(facts["warnings"]),
    )
