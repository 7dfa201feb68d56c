"""The planners' tables a run publishes beside its forecasts, in the same transaction:
``demand_forecast_drivers`` and ``demand_forecast_changes`` (:mod:`forecasting.explain`),
``replenishment_suggestions`` (:mod:`forecasting.replenishment`), ``forecast_products``
(names and categories) and ``demand_history`` (daily units for the planner app's charts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.db import read_frame
from forecasting.lifecycle.publish import TableWrite

__all__ = [
    "HISTORY_RETENTION_DAYS",
    "PlannerTables",
    "history_first_day",
    "planner_writes",
    "read_drivers",
]

#: Days of ``demand_history`` kept (the planner app charts the last 90).
HISTORY_RETENTION_DAYS = 180


@dataclass(frozen=True)
class PlannerTables:
    """What a run publishes for planners; any part may be ``None`` (not computed: the
    date's earlier rows are removed all the same, except names and history).

    Attributes:
        drivers: ``sku, location_id, horizon_bucket, input_group, contribution``.
        changes: ``sku, location_id, previous_run_date, part, input_group, contribution``.
        suggestions: :data:`forecasting.replenishment.REPLENISHMENT_COLUMNS`.
        products: ``sku, name, category`` of the run's catalogue.
        history: ``sku, location_id, ds, units`` of the days to (re)publish.
    """

    drivers: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None
    suggestions: pd.DataFrame | None = None
    products: pd.DataFrame | None = None
    history: pd.DataFrame | None = None


def read_drivers(engine: Engine, run_date: date) -> pd.DataFrame | None:
    """A run date's published drivers (``None`` when the table does not exist yet)."""
    if not sa.inspect(engine).has_table("demand_forecast_drivers"):
        return None
    return read_frame(
        engine, "publish/select_demand_forecast_drivers", {"run_date": run_date.isoformat()}
    )


def history_first_day(engine: Engine, run_date: date, lookback_days: int) -> date:
    """The first day of ``demand_history`` a run publishes: its look-back (late corrections),
    or from the table's last day on when runs were missed, at most the retention."""
    oldest = run_date - timedelta(days=HISTORY_RETENTION_DAYS - 1)
    first = run_date - timedelta(days=lookback_days)
    if sa.inspect(engine).has_table("demand_history"):
        last = read_frame(engine, "publish/select_latest_history_day", {})["last_day"].iloc[0]
        if last is None or pd.isna(last):
            return oldest
        first = min(first, pd.Timestamp(last).date() + timedelta(days=1))
    else:
        return oldest
    return max(first, oldest)


def planner_writes(
    run_date: date, model_version: str, tables: PlannerTables, history_from: date
) -> list[TableWrite]:
    """The planners' tables as writes for
    :func:`~forecasting.lifecycle.publish.publish_in_one_transaction`.

    Args:
        run_date: The run's day.
        model_version: The version that scored it.
        tables: What to publish.
        history_from: First day of ``tables.history`` to replace (see
            :func:`history_first_day`).
    """
    key = {"run_date": run_date.isoformat()}
    run_date = date.fromisoformat(run_date.isoformat())  # a plain date (Airflow's is pendulum's)
    writes = []
    for table, frame in (
        ("demand_forecast_drivers", tables.drivers),
        ("replenishment_suggestions", tables.suggestions),
    ):
        rows = (
            None if frame is None else frame.assign(run_date=run_date, model_version=model_version)
        )
        writes.append(TableWrite(f"publish/delete_{table}", key, f"publish/insert_{table}", rows))
    changes = None if tables.changes is None else tables.changes.assign(run_date=run_date)
    writes.append(
        TableWrite(
            "publish/delete_demand_forecast_changes",
            key,
            "publish/insert_demand_forecast_changes",
            changes,
        )
    )
    if tables.products is not None:
        writes.append(
            TableWrite(
                "publish/delete_forecast_products",
                {},
                "publish/insert_forecast_products",
                tables.products.loc[:, ["sku", "name", "category"]].drop_duplicates("sku"),
            )
        )
    if tables.history is not None:
        history = tables.history.loc[
            (pd.to_datetime(tables.history["ds"]).dt.date >= history_from)
            & (pd.to_datetime(tables.history["ds"]).dt.date <= run_date)
        ]
        writes.append(
            TableWrite(
                "publish/delete_demand_history",
                {
                    "first_day": history_from.isoformat(),
                    "last_day": run_date.isoformat(),
                    "oldest_day": (
                        run_date - timedelta(days=HISTORY_RETENTION_DAYS - 1)
                    ).isoformat(),
                },
                "publish/insert_demand_history",
                history.loc[:, ["sku", "location_id", "ds", "units"]],
            )
        )
    return writes
