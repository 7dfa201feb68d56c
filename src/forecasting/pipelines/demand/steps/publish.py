"""Step ``publish``: every shard's forecasts into the warehouse in one transaction, and,
with web events, the re-extracted days of ``search_demand``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from forecasting.artifacts import (
    CATALOGUE_SOURCE,
    SCORES_CHANGES,
    SCORES_DRIVERS,
    SCORES_FORECASTS,
    SCORES_HISTORY,
    SCORES_LEADTIME,
    SCORES_REPLENISHMENT,
)
from forecasting.config import REGISTERED_MODEL_NAME, PipelineConfig
from forecasting.pipelines.demand.handoffs import Published, Scored
from forecasting.resources import Resources
from forecasting.storage import read_json, read_parquet

if TYPE_CHECKING:
    from forecasting.publishing.planner import PlannerTables

__all__ = ["publish_step"]


def publish_step(
    run_day: date, scored: list[Scored], config: PipelineConfig, resources: Resources
) -> Published:
    """Replace the day's rows in ``demand_forecast`` and ``forecast_runs``: every shard's
    forecasts in one transaction, after the checks of
    :func:`~forecasting.publishing.publish_forecasts`. When the run's ``sync_source``
    synced web events, the search days it read are then replaced in ``search_demand``
    (:func:`publish_searches`, its own transaction).

    Args:
        run_day: The run's day.
        scored: Every shard's scores.
        config: Run configuration (horizon, checks).
        resources: The task's warehouse and storage.

    Returns:
        Rows written, the warehouse table and the run's ``forecast_runs`` row.
    """
    from forecasting.publishing import PublishedRun, publish_forecasts
    from forecasting.publishing.planner import history_first_day, planner_writes

    storage = resources.storage
    frames = [read_parquet(storage.open(s.uri) / SCORES_FORECASTS) for s in scored]
    lead_paths = [storage.open(s.uri) / SCORES_LEADTIME for s in scored]
    lead_frames = [read_parquet(p) for p in lead_paths if p.exists()]
    leadtime = pd.concat(lead_frames, ignore_index=True) if lead_frames else None
    forecasts = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else frames[0]
    )
    versions = {s.model_version for s in scored}
    if len(versions) != 1:
        raise RuntimeError(f"shards were scored with different versions: {sorted(versions)}")
    run_ids = sorted({s.run_id for s in scored if s.run_id})
    run = PublishedRun(
        run_date=run_day,
        model_name=REGISTERED_MODEL_NAME,
        model_version=versions.pop(),
        mlflow_run_id=run_ids[0] if run_ids else "",
        horizon_days=config.horizon,
        series_count=int(forecasts["unique_id"].nunique()) if len(forecasts) else 0,
        row_count=len(forecasts),
    )
    tables = _planner_tables(run_day, scored, resources)
    history_from = history_first_day(resources.warehouse, run_day, config.lookback_days)
    storage.check_fence()  # a run that lost its date's lease never publishes
    rows = publish_forecasts(
        resources.warehouse,
        forecasts,
        run,
        min_series_ratio=config.checks.min_series_ratio,
        max_key_length=config.checks.max_key_length,
        leadtime=leadtime,
        extra=planner_writes(run_day, run.model_version, tables, history_from),
    )
    search_rows = publish_searches(run_day, resources)
    return Published.from_dict(
        {
            "rows": rows,
            "table": "demand_forecast",
            "leadtime_rows": 0 if leadtime is None else len(leadtime),
            **run.to_dict(),
            "search_rows": search_rows,
            "driver_rows": _rows(tables.drivers),
            "change_rows": _rows(tables.changes),
            "suggestion_rows": _rows(tables.suggestions),
        }
    )


def _planner_tables(run_day: date, scored: list[Scored], resources: Resources) -> PlannerTables:
    """Every shard's drivers, changes, suggestions and history, and the catalogue's names."""
    from forecasting.extraction import read_catalog_snapshot
    from forecasting.publishing.planner import PlannerTables

    storage = resources.storage
    parts: dict[str, pd.DataFrame | None] = {}
    for name in (SCORES_DRIVERS, SCORES_CHANGES, SCORES_REPLENISHMENT, SCORES_HISTORY):
        paths = [storage.open(s.uri) / name for s in scored]
        frames = [read_parquet(p) for p in paths if p.exists()]
        parts[name] = pd.concat(frames, ignore_index=True) if frames else None
    folder = storage.committed(run_day, "catalog")
    products = None
    if folder is not None:
        products = read_catalog_snapshot(folder).products.loc[:, ["sku", "name", "category"]]
        products = products.fillna({"name": "", "category": ""})
    return PlannerTables(
        drivers=parts[SCORES_DRIVERS],
        changes=parts[SCORES_CHANGES],
        suggestions=parts[SCORES_REPLENISHMENT],
        products=products,
        history=parts[SCORES_HISTORY],
    )


def _rows(frame: pd.DataFrame | None) -> int:
    return 0 if frame is None else len(frame)


def publish_searches(run_day: date, resources: Resources) -> int:
    """Replace ``search_demand`` for the search days the run's event sync read.

    Reads the run's catalogue snapshot and its ``source.json`` (written by ``sync_source``):
    without web events there is nothing to publish and nothing is touched.

    Returns:
        Rows written (0 without web events).
    """
    from forecasting.behaviour.store import EventStore, EventSyncResult
    from forecasting.extraction import read_catalog_snapshot
    from forecasting.publishing.search import publish_search_demand

    storage = resources.storage
    folder = storage.committed(run_day, "catalog")
    if folder is None:
        return 0
    events = read_json(folder / CATALOGUE_SOURCE).get("events")
    if not events:
        return 0
    sync = EventSyncResult(**{k: v for k, v in events.items() if not k.endswith("per_second")})
    days = sync.days()
    if not days:
        return 0
    store = EventStore(storage.path(sync.store_uri))
    searches = store.read_searches(days[0], days[-1])
    products = read_catalog_snapshot(folder).products
    storage.check_fence()  # a run that lost its date's lease never publishes
    return publish_search_demand(resources.warehouse, searches, days, products, run_day)
