"""``score``: every customer, with each model's pinned version, through MLflow pyfunc."""

from __future__ import annotations

from datetime import date

from forecasting import artifacts
from forecasting.customers.config import PROPENSITY_MODEL, RECOMMENDATIONS_MODEL
from forecasting.errors import NoChampionError
from forecasting.pipelines.customers.handoffs import Scored, Trained, Validated
from forecasting.pipelines.customers.steps.validate import events_path, read_lines
from forecasting.resources import Resources
from forecasting.storage import write_parquet

__all__ = ["score_customers_step"]


def score_customers_step(
    run_day: date,
    validated: Validated,
    propensity: Trained,
    recommendations: Trained,
    resources: Resources,
) -> Scored:
    """Score every customer with the pinned versions, through MLflow pyfunc (with the
    stage's web events when it has any: the models' ``events`` parameter).

    Raises:
        NoChampionError: If either model has no version that may serve the day.
    """
    from forecasting.lifecycle.serving import score_pinned
    from forecasting.registry.tracking import configure_mlflow

    settings, storage = resources.settings, resources.storage
    lines = read_lines(storage, validated)  # opted-out customers were never extracted
    outputs = {}
    for kind, pinned in ((PROPENSITY_MODEL, propensity), (RECOMMENDATIONS_MODEL, recommendations)):
        if not pinned.version:
            raise NoChampionError(
                f"no {kind} version may serve {run_day}: {pinned.reason}; nothing is "
                "scored or published"
            )
        configure_mlflow(settings.tracking_uri, settings.artifact_root, kind)
        outputs[kind] = score_pinned(
            kind,
            pinned.version,
            lines,
            params={"cutoff": run_day.isoformat(), "events": events_path(storage, validated)},
        )
    with storage.write_stage(run_day, "customers_scores") as folder:
        write_parquet(outputs[PROPENSITY_MODEL], folder / artifacts.CUSTOMER_PROPENSITY)
        write_parquet(outputs[RECOMMENDATIONS_MODEL], folder / artifacts.CUSTOMER_RECOMMENDATIONS)
    return Scored(
        uri=storage.uri(folder),
        versions={
            "propensity": str(propensity.version),
            "recommendations": str(recommendations.version),
        },
        customers=len(outputs[PROPENSITY_MODEL]),
        recommendation_rows=len(outputs[RECOMMENDATIONS_MODEL]),
    )
