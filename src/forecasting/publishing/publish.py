"""Write a run date's forecasts into ``demand_forecast`` and ``forecast_runs``.

One transaction deletes the run date's rows and inserts the new ones (every shard's), so
a re-run of the same date replaces its rows (never duplicates them) and readers see
either the old or the new forecasts, never a mix or a half-written set. Before anything
is written, the forecasts are checked (keys, values, order of quantiles) and compared
with what was published before: a run that would publish far fewer series than the
previous run, or than this date already has, fails and leaves the tables as they were.

Publishing needs only ``SELECT``, ``INSERT`` and ``DELETE`` on the two tables: they are
created by :func:`create_forecast_tables` (an administrator's step) and only created here
when missing (the embedded SQLite demo).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.db import read_frame
from forecasting.errors import NonRetryableError
from forecasting.lifecycle.publish import TableWrite, publish_in_one_transaction
from forecasting.names import LAUNCH_MODEL_NAME
from forecasting.sources.shop import create_forecast_tables

__all__ = [
    "ADDED_COLUMNS",
    "FORECAST_TABLES",
    "PublishGuardError",
    "PublishedRun",
    "add_missing_columns",
    "ensure_forecast_tables",
    "guard_against_shrinking",
    "previous_runs",
    "publish_forecasts",
    "read_leadtime",
    "read_published",
]

log = logging.getLogger(__name__)

_VALUE_COLUMNS = ("forecast", "p10", "p50", "p90")
#: The tables this module writes.
FORECAST_TABLES = (
    "demand_forecast",
    "forecast_runs",
    "customer_propensity",
    "customer_recommendations",
    "demand_forecast_leadtime",
    "forecast_accuracy",
    "forecast_accuracy_summary",
    "search_demand",
    "demand_alerts",
    "demand_forecast_drivers",
    "demand_forecast_changes",
    "replenishment_suggestions",
    "replenishment_decisions",
    "forecast_products",
    "demand_history",
)


#: Columns later versions added to existing forecast tables: ``(table, column)``.
#: :func:`add_missing_columns` adds them to tables created before (``create_forecast_tables``
#: creates new tables with them; ``schema/add_column.sql`` holds their definitions).
ADDED_COLUMNS = (
    ("demand_forecast", "cold_start"),
    ("demand_forecast", "history_days"),
)


class PublishGuardError(NonRetryableError):
    """Publishing would make the tables worse than they are (far fewer series, nothing)."""


@dataclass(frozen=True)
class PublishedRun:
    """The ``forecast_runs`` row of a publication."""

    run_date: date
    model_name: str
    model_version: str
    mlflow_run_id: str
    horizon_days: int
    series_count: int
    row_count: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        out = asdict(self)
        out["run_date"] = self.run_date.isoformat()
        return out


def ensure_forecast_tables(engine: Engine) -> None:
    """Create the forecast tables if they are missing; never touch existing ones.

    With tables created by an administrator, a publisher with only ``SELECT``, ``INSERT``
    and ``DELETE`` grants never issues DDL.
    """
    inspector = sa.inspect(engine)
    if not all(inspector.has_table(t) for t in FORECAST_TABLES):
        create_forecast_tables(engine)


def add_missing_columns(engine: Engine) -> list[str]:
    """Add the :data:`ADDED_COLUMNS` an existing table lacks (an upgrade; idempotent).

    ``forecasting init-db`` runs it with the administrator's rights. A publisher without
    ``ALTER`` on a table created by an earlier version gets an error that says so.

    Returns:
        The ``table.column`` names added.
    """
    from forecasting.db import dialect_of, execute_script

    inspector = sa.inspect(engine)
    missing = [
        (table, column)
        for table, column in ADDED_COLUMNS
        if inspector.has_table(table)
        and column not in {c["name"] for c in inspector.get_columns(table)}
    ]
    added = []
    for table, column in missing:
        try:
            with engine.begin() as conn:
                execute_script(conn, "schema/add_column", table=table, column=column)
        except sa.exc.DBAPIError as exc:
            raise NonRetryableError(
                f"table {table} lacks column {column} (added by this version) and it could "
                f"not be added ({type(exc.orig).__name__}): run `forecasting init-db` as an "
                "administrator to upgrade the forecast tables"
            ) from exc
        added.append(f"{table}.{column}")
        log.info("added column %s.%s (%s)", table, column, dialect_of(engine))
    return added


def _check(forecasts: pd.DataFrame, max_key_length: int) -> None:
    required = {"sku", "location_id", "ds", *_VALUE_COLUMNS}
    missing = required - set(forecasts.columns)
    if missing:
        raise ValueError(f"forecasts lack columns {sorted(missing)}")
    values = forecasts.loc[:, list(_VALUE_COLUMNS)]
    if values.isna().any().any() or (values < 0).any().any():
        raise ValueError("forecasts hold missing or negative values; nothing was published")
    if not ((forecasts["p10"] <= forecasts["p50"]) & (forecasts["p50"] <= forecasts["p90"])).all():
        raise ValueError("forecasts violate P10 <= P50 <= P90; nothing was published")
    if forecasts.duplicated(["sku", "location_id", "ds"]).any():
        raise ValueError("forecasts hold duplicate keys; nothing was published")
    for column in ("sku", "location_id"):
        too_long = forecasts.loc[forecasts[column].astype(str).str.len() > max_key_length, column]
        if len(too_long):
            raise ValueError(
                f"{column} longer than {max_key_length} characters (e.g. {too_long.iloc[0][:40]!r}); "
                "nothing was published"
            )


def previous_runs(
    engine: Engine, run_date: date
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The ``forecast_runs`` rows of the latest earlier run date and of ``run_date``.

    Returns:
        ``(previous, same_date)``, each a dict or ``None``; both ``None`` when nothing was
        ever published (or the tables do not exist yet).
    """
    if not sa.inspect(engine).has_table("forecast_runs"):
        return None, None
    rows = read_frame(engine, "publish/select_previous_runs", {"run_date": run_date.isoformat()})
    previous = same = None
    for row in rows.to_dict(orient="records"):
        row["run_date"] = str(row["run_date"])[:10]
        if row["run_date"] == run_date.isoformat():
            same = row
        else:
            previous = row
    return previous, same


def guard_against_shrinking(
    series: int, previous: dict[str, Any] | None, same_date: dict[str, Any] | None, min_ratio: float
) -> None:
    """Refuse to publish far fewer series than before.

    Raises:
        PublishGuardError: If ``series`` is 0, or below ``min_ratio`` of the series the
            previous run published or this date already has.
    """
    if series == 0:
        raise PublishGuardError("no forecasts to publish: the published rows are left as they are")
    for label, row in (("the previous run", previous), ("this date's published run", same_date)):
        if row and series < min_ratio * int(row["series_count"]):
            raise PublishGuardError(
                f"would publish {series} series, fewer than {min_ratio:.0%} of the "
                f"{row['series_count']} that {label} ({row['run_date']}) published: the "
                "published rows are left as they are"
            )


def publish_forecasts(
    engine: Engine,
    forecasts: pd.DataFrame,
    run: PublishedRun,
    *,
    min_series_ratio: float = 0.0,
    max_key_length: int = 255,
    leadtime: pd.DataFrame | None = None,
    extra: Sequence[TableWrite] = (),
) -> int:
    """Replace the run date's forecasts, lead-time quantiles and run row in one transaction.

    Args:
        engine: Warehouse database.
        forecasts: ``sku, location_id, ds, forecast, p10, p50, p90`` (all shards), and
            optionally ``cold_start`` (rows of new products, published with model name
            :data:`~forecasting.names.LAUNCH_MODEL_NAME`) and ``history_days``.
        run: Run metadata (``row_count`` and ``series_count`` should match ``forecasts``).
        leadtime: ``sku, location_id, days, forecast, p50, p80, p90, p95, p99`` for
            ``demand_forecast_leadtime`` (``None``: the model version has no lead-time
            quantiles; the date's earlier rows are removed all the same).
        min_series_ratio: See :func:`guard_against_shrinking` (0 disables the guard).
        max_key_length: Longest key the tables hold.
        extra: Further tables to replace in the same transaction (the planners' tables,
            :func:`forecasting.publishing.planner.planner_writes`).

    Returns:
        Rows written to ``demand_forecast``.

    Raises:
        ValueError: If the forecasts are inconsistent (checked before anything is written).
        PublishGuardError: If they would shrink what is published.
    """
    _check(forecasts, max_key_length)
    ensure_forecast_tables(engine)
    add_missing_columns(engine)
    if min_series_ratio > 0:
        previous, same = previous_runs(engine, run.run_date)
        guard_against_shrinking(run.series_count, previous, same, min_series_ratio)
    key = {"run_date": run.run_date.isoformat()}
    rows = forecasts.loc[:, ["sku", "location_id", *_VALUE_COLUMNS]].assign(
        run_date=run.run_date,
        target_date=pd.to_datetime(forecasts["ds"]).dt.normalize(),
        model_name=run.model_name,
        model_version=run.model_version,
        cold_start=0,
        history_days=None,
    )
    if "cold_start" in forecasts.columns:  # new products' rows come from the launch curves
        cold = forecasts["cold_start"].fillna(False).astype(bool).to_numpy()
        rows["cold_start"] = cold.astype("int64")
        rows.loc[cold, "model_name"] = LAUNCH_MODEL_NAME
    if "history_days" in forecasts.columns:
        rows["history_days"] = forecasts["history_days"].astype("Int64").to_numpy()
    lt_rows = _leadtime_rows(leadtime, run) if leadtime is not None else None
    writes = [
        TableWrite("publish/delete_demand_forecast", key, "publish/insert_demand_forecast", rows),
        TableWrite(
            "publish/delete_demand_forecast_leadtime",
            key,
            "publish/insert_demand_forecast_leadtime",
            lt_rows,
        ),
        TableWrite(
            "publish/delete_forecast_run", key, "publish/insert_forecast_run", [run.to_dict()]
        ),
        *extra,
    ]
    publish_in_one_transaction(engine, writes, "publish")
    log.info(
        "published %d forecast rows for %s (model %s v%s)",
        len(rows),
        run.run_date,
        run.model_name,
        run.model_version,
    )
    return len(rows)


def _leadtime_rows(leadtime: pd.DataFrame, run: PublishedRun) -> pd.DataFrame:
    levels = ["p50", "p80", "p90", "p95", "p99"]
    values = leadtime.loc[:, ["forecast", *levels]]
    if values.isna().any().any() or (values < 0).any().any():
        raise ValueError(
            "lead-time quantiles hold missing or negative values; nothing was published"
        )
    if (values[levels].diff(axis=1).iloc[:, 1:] < -1e-9).any().any():
        raise ValueError(
            "lead-time quantiles are not ordered P50 <= ... <= P99; nothing was published"
        )
    frame = leadtime.loc[:, ["sku", "location_id", "days", "forecast", *levels]]
    return frame.astype(
        {"days": "int64", **dict.fromkeys(["forecast", *levels], "float64")}
    ).assign(run_date=run.run_date, model_version=run.model_version)


def read_leadtime(engine: Engine, run_date: date) -> pd.DataFrame:
    """A run date's ``demand_forecast_leadtime`` rows."""
    ensure_forecast_tables(engine)
    return read_frame(
        engine, "publish/select_demand_forecast_leadtime", {"run_date": run_date.isoformat()}
    )


def read_published(engine: Engine, run_date: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run date's ``demand_forecast`` rows and ``forecast_runs`` row (both may be empty)."""
    ensure_forecast_tables(engine)
    params = {"run_date": run_date.isoformat()}
    return (
        read_frame(engine, "publish/select_demand_forecast", params),
        read_frame(engine, "publish/select_forecast_run", params),
    )
