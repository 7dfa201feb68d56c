"""A small planner warehouse on SQLite: two runs of three series with everything the app
shows (names, one hostile; history and actuals; drivers and changes that add up; lead-time
quantities; suggestions for two of the series)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

RUN = date(2024, 6, 30)
PREVIOUS = date(2024, 6, 23)
HOSTILE = '<script>alert(1)</script> & "quotes"'
#: (sku, location_id, name, category, daily level, suggested quantity or None)
SERIES = (
    ("SKU-1", "Berlin", "Garden chair", "garden", 6.0, 40.0),
    ("SKU 2/ü?&x=1", "Köln Süd", HOSTILE, "toys", 3.0, 12.0),
    ("SKU-3", "Berlin", "Desk lamp", "home", 1.5, None),
)
BUCKETS = {"1-7": (1, 7), "8-14": (8, 14), "15-28": (15, 28)}
#: The tables the app only reads: they must be byte-for-byte the same after decisions.
READ_ONLY_TABLES = (
    "forecast_runs",
    "demand_forecast",
    "demand_forecast_leadtime",
    "demand_forecast_drivers",
    "demand_forecast_changes",
    "replenishment_suggestions",
    "forecast_products",
    "demand_history",
    "forecast_accuracy",
)


def _daily(level: float, run: date, shift: float) -> list[tuple[date, float]]:
    return [
        (run + timedelta(days=h), round(level * (1 + 0.2 * np.sin(h / 3)) + shift, 3))
        for h in range(1, 29)
    ]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def build(engine: sa.Engine, tables: tuple[str, ...] | None = None) -> None:
    """Create the forecast tables and fill them (only ``tables`` when given: a warehouse
    from before the newer tables existed)."""
    from forecasting.db import insert_rows
    from forecasting.publishing.publish import ensure_forecast_tables

    ensure_forecast_tables(engine)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    columns: dict[str, tuple[str, ...]] = {
        "forecast_runs": [
            "run_date",
            "model_name",
            "model_version",
            "mlflow_run_id",
            "horizon_days",
            "series_count",
            "row_count",
        ],
        "demand_forecast": [
            "run_date",
            "sku",
            "location_id",
            "target_date",
            "forecast",
            "p10",
            "p50",
            "p90",
            "model_name",
            "model_version",
            "cold_start",
            "history_days",
        ],
        "demand_forecast_leadtime": [
            "run_date",
            "sku",
            "location_id",
            "days",
            "forecast",
            "p50",
            "p80",
            "p90",
            "p95",
            "p99",
            "model_version",
        ],
        "demand_forecast_drivers": [
            "run_date",
            "sku",
            "location_id",
            "horizon_bucket",
            "input_group",
            "contribution",
            "model_version",
        ],
        "demand_forecast_changes": [
            "run_date",
            "sku",
            "location_id",
            "previous_run_date",
            "part",
            "input_group",
            "contribution",
        ],
        "replenishment_suggestions": [
            "run_date",
            "sku",
            "location_id",
            "on_hand",
            "on_order",
            "lead_time_days",
            "review_period_days",
            "service_level",
            "demand_mean",
            "order_up_to",
            "suggested_qty",
            "expected_service_level",
            "model_version",
        ],
        "forecast_products": ("sku", "name", "category"),
        "demand_history": ("sku", "location_id", "ds", "units"),
        "forecast_accuracy": [
            "run_date",
            "target_date",
            "lag_days",
            "sku",
            "location_id",
            "category",
            "actual",
            "forecast",
            "p10",
            "p50",
            "p90",
            "scale_mae1",
            "scale_mse1",
            "scale_mae7",
            "model_version",
        ],
    }
    for name in columns:
        rows[name] = []
    for run, version in ((PREVIOUS, "3"), (RUN, "4")):
        rows["forecast_runs"].append((run, "gbm", version, "abc", 28, len(SERIES), 28 * 3))
    for sku, location, name, category, level, suggested in SERIES:
        rows["forecast_products"].append((sku, name, category))
        totals = {}
        for run, version, shift in ((PREVIOUS, "3", -0.5), (RUN, "4", 0.0)):
            daily = _daily(level, run, shift)
            totals[run] = sum(v for _, v in daily)
            for day, value in daily:
                rows["demand_forecast"].append(
                    (
                        run,
                        sku,
                        location,
                        day,
                        value,
                        0.6 * value,
                        value,
                        1.5 * value,
                        "gbm",
                        version,
                        0,
                        400,
                    )
                )
        daily = _daily(level, RUN, 0.0)
        for days in (7, 14, 28):
            mean = sum(v for _, v in daily[:days])
            rows["demand_forecast_leadtime"].append(
                (
                    RUN,
                    sku,
                    location,
                    days,
                    mean,
                    mean,
                    1.2 * mean,
                    1.3 * mean,
                    1.4 * mean,
                    1.6 * mean,
                    "4",
                )
            )
        for offset in range(120):
            day = RUN - timedelta(days=offset)
            units = None if offset == 40 else float(round(level + 2 * np.cos(offset / 2)))
            rows["demand_history"].append((sku, location, day, units))
        for h in (1, 2, 3):  # actuals that arrived after the run
            day = RUN + timedelta(days=h)
            actual = float(round(level + 1))
            rows["demand_history"].append((sku, location, day, actual))
            forecast = daily[h - 1][1]
            rows["forecast_accuracy"].append(
                (
                    RUN,
                    day,
                    h,
                    sku,
                    location,
                    category,
                    actual,
                    forecast,
                    0.6 * forecast,
                    forecast,
                    1.5 * forecast,
                    1.0,
                    1.0,
                    1.0,
                    "4",
                )
            )
        if suggested is None:
            continue  # the lamp: no drivers, no change explanation, no suggestion
        for bucket, (first, last) in BUCKETS.items():
            total = sum(v for _, v in daily[first - 1 : last])
            reference = level * (last - first + 1)
            parts = {"sales_history": 0.5, "price_promotions": -0.25}
            baseline = total - reference - sum(parts.values())
            for group, value in {
                "reference": reference,
                **parts,
                "model_baseline": baseline,
            }.items():
                rows["demand_forecast_drivers"].append(
                    (RUN, sku, location, bucket, group, value, "4")
                )
        change = totals[RUN] - totals[PREVIOUS]
        for part, group, value in (
            ("new_data", "sales_history", 0.75 * change),
            ("new_data", "calendar_events", 0.05 * change),
            ("new_model", "model", 0.2 * change),
        ):
            rows["demand_forecast_changes"].append(
                (RUN, sku, location, PREVIOUS, part, group, value)
            )
        rows["replenishment_suggestions"].append(
            (
                RUN,
                sku,
                location,
                10.0,
                5.0,
                7,
                7,
                0.95,
                14 * level,
                14 * level + 25,
                suggested,
                0.96,
                "4",
            )
        )
    with engine.begin() as conn:
        for name, table_rows in rows.items():
            if tables is not None and name not in tables:
                continue
            insert_rows(conn, name, columns[name], [tuple(map(_iso, r)) for r in table_rows])


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables the app only reads, sorted."""
    out = {}
    with engine.connect() as conn:
        for table in READ_ONLY_TABLES:
            out[table] = sorted(
                tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table}")).all()
            )
    return out


def decisions(engine: sa.Engine) -> list[dict[str, Any]]:
    """The recorded decisions, oldest first."""
    with engine.connect() as conn:
        result = conn.execute(
            sa.text("SELECT * FROM replenishment_decisions ORDER BY decided_at, sku")
        )
        return [dict(r._mapping) for r in result]
