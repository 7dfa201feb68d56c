"""Write a run date's forecasts into ``demand_forecast`` and ``forecast_runs``.

One transaction deletes the run date's rows and inserts the new ones, so a re-run of the
same date replaces its rows (never duplicates them) and readers see either the old or the
new forecasts, never a mix or a half-written set.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.db import dialect_of, read_frame, render_sql
from forecasting.sources.shop import create_forecast_tables

__all__ = ["PublishedRun", "publish_forecasts", "read_published"]

log = logging.getLogger(__name__)

_VALUE_COLUMNS = ("forecast", "p10", "p50", "p90")


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


def _check(forecasts: pd.DataFrame) -> None:
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


def publish_forecasts(engine: Engine, forecasts: pd.DataFrame, run: PublishedRun) -> int:
    """Replace the run date's forecasts and run row in one transaction.

    Args:
        engine: Warehouse database.
        forecasts: ``sku, location_id, ds, forecast, p10, p50, p90``.
        run: Run metadata (``row_count`` and ``series_count`` should match ``forecasts``).

    Returns:
        Rows written to ``demand_forecast``.

    Raises:
        ValueError: If the forecasts are inconsistent (checked before anything is written).
    """
    _check(forecasts)
    create_forecast_tables(engine)
    dialect = dialect_of(engine)
    key = {"run_date": run.run_date.isoformat()}
    rows = [
        {
            "run_date": key["run_date"],
            "sku": sku,
            "location_id": loc,
            "target_date": pd.Timestamp(ds).date().isoformat(),
            "forecast": float(f),
            "p10": float(p10),
            "p50": float(p50),
            "p90": float(p90),
            "model_name": run.model_name,
            "model_version": run.model_version,
        }
        for sku, loc, ds, f, p10, p50, p90 in forecasts[
            ["sku", "location_id", "ds", *_VALUE_COLUMNS]
        ].itertuples(index=False, name=None)
    ]
    with engine.begin() as conn:
        conn.execute(sa.text(render_sql("publish/delete_demand_forecast", dialect)), key)
        for start in range(0, len(rows), 20_000):
            conn.execute(
                sa.text(render_sql("publish/insert_demand_forecast", dialect)),
                rows[start : start + 20_000],
            )
        conn.execute(sa.text(render_sql("publish/delete_forecast_run", dialect)), key)
        conn.execute(sa.text(render_sql("publish/insert_forecast_run", dialect)), run.to_dict())
    log.info(
        "published %d forecast rows for %s (model %s v%s)",
        len(rows),
        run.run_date,
        run.model_name,
        run.model_version,
    )
    return len(rows)


def read_published(engine: Engine, run_date: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run date's ``demand_forecast`` rows and ``forecast_runs`` row (both may be empty)."""
    create_forecast_tables(engine)
    params = {"run_date": run_date.isoformat()}
    return (
        read_frame(engine, "publish/select_demand_forecast", params),
        read_frame(engine, "publish/select_forecast_run", params),
    )
