"""Step ``extract`` (per shard): the shard's history, future covariates and events, from the store."""

from __future__ import annotations

from datetime import date

from forecasting.config import PipelineConfig
from forecasting.extraction import (
    DemandStore,
    assemble_extract,
    read_catalog_snapshot,
    write_partition,
)
from forecasting.extraction.extract import shard_products
from forecasting.pipelines.demand.handoffs import Extracted, WorkOrder
from forecasting.resources import Resources

__all__ = ["extract_step"]


def extract_step(
    run_day: date, order: WorkOrder, config: PipelineConfig, resources: Resources
) -> Extracted:
    """*Per shard*: the shard's history, future covariates and events, from the store.

    Args:
        run_day: The run's day.
        order: The shard's work order from ``sync_source``.
        config: Run configuration.
        resources: The task's storage.

    Returns:
        The extract (:class:`~forecasting.extraction.ExtractResult`'s facts) and the
        ``catalog_uri`` validation reads.
    """
    storage = resources.storage
    part, window = order.shard, order.window
    catalog = read_catalog_snapshot(storage.open(order.catalog_uri))
    store = DemandStore(storage.path(order.store_uri))
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
    return Extracted.from_dict({**result.to_dict(), "catalog_uri": order.catalog_uri})
