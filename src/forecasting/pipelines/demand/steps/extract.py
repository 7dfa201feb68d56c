"""Step ``extract`` (per shard): the shard's history, future covariates and events, from the store."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pandas as pd

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
    """*Per shard*: the shard's history, future covariates and events, from the store;
    with web events (``order.events_uri``), the shard's daily behaviour of the window's days
    the event store covers (``behaviour.parquet``, its rows and the events' cleaning counts
    in the manifest).

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
    facts: dict[str, Any] | None = None
    if order.events_uri is not None:
        behaviour, facts = _behaviour(order.events_uri, resources, window.start, run_day, skus)
        extract = dataclasses.replace(extract, behaviour=behaviour)
    with storage.write_stage(run_day, "extract", part.name) as folder:
        result = write_partition(folder, extract, window, part, facts)
    return Extracted.from_dict({**result.to_dict(), "catalog_uri": order.catalog_uri})


def _behaviour(
    events_uri: str, resources: Resources, first: date, last: date, skus: set[str]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The shard's daily behaviour of the days ``first`` .. ``last`` the event store covers,
    and what the manifest records of it."""
    from forecasting.behaviour.store import EventStore

    store = EventStore(resources.storage.path(events_uri))
    span = store.coverage()
    if span is None:
        raise ValueError(f"the event store {events_uri} holds nothing: run sync_source again")
    first, last = max(first, span[0]), min(last, span[1])
    behaviour = store.read_daily(first, last, skus)
    cleaning = store.cleaning(first, last).to_dict()
    facts = {
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "events_read": cleaning.pop("rows"),
        **cleaning,
    }
    return behaviour, facts
