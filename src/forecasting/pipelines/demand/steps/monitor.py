"""Step ``monitor``: accuracy against the actuals that arrived, and the champion's decay."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date

from forecasting.artifacts import MONITOR_SUMMARY, MONITOR_VERDICT
from forecasting.config import REGISTERED_MODEL_NAME, PipelineConfig
from forecasting.features.panel import Panel
from forecasting.pipelines.demand.common import load_panel
from forecasting.pipelines.demand.handoffs import Features, Monitored, WorkOrder
from forecasting.resources import Resources
from forecasting.storage import write_json, write_parquet

__all__ = ["monitor_step"]


def monitor_step(
    run_day: date,
    features: list[Features],
    order: WorkOrder,
    config: PipelineConfig,
    resources: Resources,
) -> Monitored:
    """Join published forecasts with the actuals that arrived, write ``forecast_accuracy``
    and the day's aggregates in one transaction, judge the champion's decay (see
    :mod:`forecasting.monitoring`), log its live metrics to MLflow.

    Args:
        run_day: The run's day.
        features: Every shard's features (today's actuals).
        order: A work order of the run (its catalogue snapshot).
        config: Run configuration (the monitoring policy).
        resources: The task's warehouse, MLflow tracker and storage.

    Returns:
        Rows written (target days joined whole), rows whose late actual changed, summary
        rows, the window and the decay verdict (``None`` without a champion); the summary
        and verdict are also written to the run's ``monitor`` stage for the report.
    """
    from forecasting.extraction.extract import read_catalog_snapshot
    from forecasting.monitoring.stage import judge_champion, write_accuracy
    from forecasting.registry.runs import MONITORING_EXPERIMENT_SUFFIX

    storage = resources.storage
    catalog = read_catalog_snapshot(storage.open(order.catalog_uri))
    categories = catalog.products.drop_duplicates("sku").set_index("sku")["category"]

    def panels() -> Iterator[Panel]:  # one shard's panel in memory at a time
        for f in features:
            if f.series:
                yield load_panel(storage, f.uri)

    written = write_accuracy(
        run_day,
        resources.warehouse,
        resources.settings.warehouse_url,
        config.monitoring,
        panels(),
        categories,
        storage.check_fence,
    )
    resources.experiment_id  # noqa: B018 (points MLflow at the store and the experiment)
    monitoring = dataclasses.replace(
        resources, experiment=resources.experiment + MONITORING_EXPERIMENT_SUFFIX
    )
    verdict = judge_champion(
        run_day,
        written,
        config.monitoring,
        REGISTERED_MODEL_NAME,
        lambda: monitoring.experiment_id,
    )
    with storage.write_stage(run_day, "monitor") as folder:
        write_parquet(written.summary, folder / MONITOR_SUMMARY)
        write_json(folder / MONITOR_VERDICT, None if verdict is None else verdict.to_dict())
    return Monitored(
        rows=written.rows,
        updated=written.updated,
        summary_rows=len(written.summary),
        window=[d.isoformat() for d in written.window],
        uri=storage.uri(folder),
        verdict=None if verdict is None else verdict.to_dict(),
    )
