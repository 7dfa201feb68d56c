"""Step ``sync_source``: read the shop's database once and hand out one work order per shard."""

from __future__ import annotations

import errno
import logging
from datetime import date, timedelta
from typing import Any

from forecasting import artifacts
from forecasting.config import PipelineConfig
from forecasting.db import retrying
from forecasting.extraction import (
    DemandStore,
    ExtractWindow,
    check_source_schema,
    read_catalog,
    read_line_quality,
    write_catalog_snapshot,
)
from forecasting.extraction.source import Catalog
from forecasting.extraction.stock import read_stock, write_stock_snapshot
from forecasting.leases import Lease, process_holder
from forecasting.pipelines.demand.handoffs import WorkOrder
from forecasting.resources import Resources
from forecasting.sharding import Shard, resolve_shard_count
from forecasting.storage import write_json

__all__ = ["STORE_SYNC_WAIT", "sync_source_step"]

log = logging.getLogger(__name__)

#: How long a run waits for another run's sync of the shared demand store to finish (a
#: first sync at 30,000 series reads 24 million order lines in about 3 minutes).
STORE_SYNC_WAIT = timedelta(minutes=30)


def sync_source_step(
    run_day: date,
    config: PipelineConfig,
    resources: Resources,
    customer_key: bytes | None = None,
) -> list[WorkOrder]:
    """Read the source database once: schema check, catalogue, quality counts, new demand
    and, when the source has web events, new behaviour.

    Brings the incremental demand store up to ``run_day`` (days not yet extracted plus
    ``lookback_days``), then the event store (:mod:`forecasting.behaviour.store`: the last
    ``behaviour_days`` days, only when ``web_events`` has a row in them; otherwise nothing
    of it is written and the run is what it was without events), snapshots the catalogue
    for the run, and decides the shards.

    Args:
        run_day: The run's day.
        config: Run configuration.
        resources: The task's source and warehouse engines and storage.
        customer_key: Pseudonymisation key of the events' sessions and customers (default:
            ``$FORECASTING_CUSTOMER_KEY`` when set, else a random key for this sync, never
            stored: the demand path stores counts only).

    Returns:
        One work order per shard (what the DAG maps over), each with the run's catalogue
        snapshot, store, window, quality counts and sync facts.

    Raises:
        SchemaDriftError: If a source table or column is missing.
        ValidationFailedError: If a day's web events break a rule (nothing of the day is
            written; the event store keeps its previous state).
    """
    settings, storage, engine = resources.settings, resources.storage, resources.source
    url = settings.source_url
    retrying(lambda: check_source_schema(engine), "check source schema", url)
    window = ExtractWindow.for_logical_date(run_day, config.history_days, config.horizon)
    zones = (settings.shop_timezone, settings.source_timezone)
    catalog = retrying(
        lambda: read_catalog(
            engine,
            window.start,
            window.horizon_end,
            last_day=run_day,
            shop_tz=settings.shop_timezone,
            source_tz=settings.source_timezone,
        ),
        "read catalogue",
        url,
    )
    quality = retrying(lambda: read_line_quality(engine, run_day, *zones), "count lines", url)
    store = DemandStore.for_source(storage.root, url, *zones)
    # The store serves every date: one sync at a time, whichever run (or date) asks.
    writer = Lease(resources.warehouse, f"store/demand/{store.root.name}", process_holder("sync"))
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
    events = _sync_events(run_day, config, resources, catalog, customer_key)
    n_shards = resolve_shard_count(config.shards, len(catalog.products) * len(catalog.locations))
    source: dict[str, Any] = {"quality": quality, "sync": sync.to_dict()}
    if events is not None:  # without events, source.json is what it was
        source["events"] = events
    with storage.write_stage(run_day, "catalog") as folder:
        write_catalog_snapshot(catalog, folder)
        write_json(folder / artifacts.CATALOGUE_SOURCE, source)
        stock = retrying(lambda: read_stock(engine, run_day), "read stock", url)
        if stock is not None:  # without a replenishment policy, nothing is suggested
            write_stock_snapshot(stock, folder)
    return [
        WorkOrder(
            shard=s,
            catalog_uri=storage.uri(folder),
            store_uri=sync.store_uri,
            window=window,
            quality=quality,
            sync=sync.to_dict(),
            events_uri=None if events is None else events["store_uri"],
        )
        for s in Shard.all(n_shards)
    ]


def _sync_events(
    run_day: date,
    config: PipelineConfig,
    resources: Resources,
    catalog: Catalog,
    customer_key: bytes | None,
) -> dict[str, Any] | None:
    """Bring the event store up to ``run_day`` when the source has web events in the last
    ``behaviour_days`` days.

    Returns:
        The sync's facts (:class:`~forecasting.behaviour.store.EventSyncResult`), or
        ``None`` when there are no events (nothing is written).
    """
    from forecasting.behaviour.source import has_web_events, sync_key
    from forecasting.behaviour.store import EventStore

    settings, storage, engine = resources.settings, resources.storage, resources.source
    url = settings.source_url
    zones = (settings.shop_timezone, settings.source_timezone)
    first = run_day - timedelta(days=config.behaviour_days - 1)
    if not retrying(lambda: has_web_events(engine, first, run_day, *zones), "find events", url):
        return None
    store = EventStore.for_source(storage.root, url, *zones)
    key = sync_key(customer_key)
    # Like the demand store: one sync at a time, whichever run (or date) asks.
    writer = Lease(resources.warehouse, f"store/events/{store.root.name}", process_holder("sync"))
    try:
        with writer.held(wait=STORE_SYNC_WAIT.total_seconds()):
            result = retrying(
                lambda: store.sync(
                    engine,
                    run_day,
                    days=config.behaviour_days,
                    lookback_days=config.lookback_days,
                    shop_tz=settings.shop_timezone,
                    source_tz=settings.source_timezone,
                    key=key,
                    catalogue=catalog.products,
                    checks=config.checks,
                    full_refresh=config.full_refresh,
                ),
                "extract web events",
                url,
            )
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        raise storage.full(exc, f"the event store sync of {run_day}", store.root) from exc
    return result.to_dict()
