"""The customer pipeline without Airflow: every step in order, holding the date's lease."""

from __future__ import annotations

from datetime import date
from typing import Any

from forecasting.config import Settings
from forecasting.customers.config import CustomerConfig
from forecasting.resources import Resources
from forecasting.storage import Storage

__all__ = ["run_customer_pipeline"]


def run_customer_pipeline(
    run_day: date,
    settings: Settings,
    config: CustomerConfig,
    storage: Storage,
    key: bytes,
    holder: str | None = None,
    lease_wait: float = 0.0,
) -> dict[str, Any]:
    """Every step in order without Airflow, holding the date's lease (as the demand
    pipeline's ``run_pipeline`` does).

    Returns:
        ``propensity`` and ``recommendations`` (each model's training outcome), and what
        was published (``rows``, ``versions``, ``run_date``).

    Raises:
        LeaseHeldError: If another run holds the date.
    """
    from forecasting.leases import Lease, begin_run, end_run, process_holder, run_lease_key
    from forecasting.names import CUSTOMER_PIPELINE
    from forecasting.pipelines.customers.steps.extract import extract_customers_step
    from forecasting.pipelines.customers.steps.publish import publish_customers_step
    from forecasting.pipelines.customers.steps.score import score_customers_step
    from forecasting.pipelines.customers.steps.train import (
        train_propensity_step,
        train_recommendations_step,
    )
    from forecasting.pipelines.customers.steps.validate import validate_customers_step

    resources = Resources.from_settings(settings, storage)
    lease = Lease(
        resources.warehouse, run_lease_key(CUSTOMER_PIPELINE, run_day), holder or process_holder()
    )
    begin_run(run_day, lease, storage, lease_wait)
    fenced = storage.fenced(lease.renew)
    resources = resources.replace(storage=fenced, warehouse=resources.warehouse)
    try:
        with lease.kept_alive():
            extracted = extract_customers_step(run_day, config, resources, key)
            validated = validate_customers_step(run_day, extracted, resources)
            propensity = train_propensity_step(run_day, validated, config, resources)
            recommendations = train_recommendations_step(run_day, validated, config, resources)
            scored = score_customers_step(
                run_day, validated, propensity, recommendations, resources
            )
            published = publish_customers_step(run_day, scored, resources, key)
    finally:
        end_run(lease)
    return {
        "propensity": propensity.to_dict(),
        "recommendations": recommendations.to_dict(),
        **published.to_dict(),
    }
