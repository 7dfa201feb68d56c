"""The warehouse computes monitoring's aggregates (so a 28-day window of 23.5 million rows
at 30,000 series never reaches pandas): its SQL must give what the pandas reference gives,
on SQLite and on the real MariaDB server."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from forecasting.db import make_engine, render_sql
from forecasting.monitoring import (
    ACCURACY_COLUMNS,
    accuracy_stats,
    lag_metrics,
    lag_metrics_from_sums,
    live_days,
    summarise_accuracy,
    summarise_stats,
)
from forecasting.publishing import ensure_forecast_tables

pytestmark = pytest.mark.integration

LAST = date(2024, 7, 20)
FIRST = LAST - timedelta(days=9)


def accuracy_frame(seed: int = 5) -> pd.DataFrame:
    """Ten target days, lags 1-4, 8 series in 2 categories, 2 versions; some actuals
    unknown (excluded days) and some scales zero or unknown (series that never moved)."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(10):
        target = LAST - timedelta(days=k)
        for lag in range(1, 5):
            run = target - timedelta(days=lag)
            for i in range(8):
                forecast = float(rng.gamma(2.0, 3.0))
                spread = float(rng.uniform(0.5, 4.0))
                out.append(
                    {
                        "run_date": run,
                        "target_date": target,
                        "lag_days": lag,
                        "sku": f"SKU-{i % 4}",
                        "location_id": "online" if i < 4 else "store-1",
                        "category": "toys" if i % 2 else "garden",
                        "actual": float(rng.poisson(6.0)),
                        "forecast": forecast,
                        "p10": max(forecast - spread, 0.0),
                        "p50": forecast,
                        "p90": forecast + spread,
                        # A series' scales depend on the run date only (its history then).
                        "scale_mae1": [2.5, 0.0, 3.1, 1.7][i % 4] + run.day / 100,
                        "scale_mse1": [9.0, 0.0, np.nan, 4.4][i % 4] + run.day / 100,
                        "scale_mae7": [2.0, 0.0, 2.2, np.nan][i % 4],
                        "model_version": "3" if run >= date(2024, 7, 14) else "2",
                    }
                )
    frame = pd.DataFrame(out, columns=list(ACCURACY_COLUMNS))
    frame.loc[rng.random(len(frame)) < 0.1, "actual"] = np.nan
    return frame


@pytest.fixture(params=["sqlite", "mariadb"])
def warehouse(request, tmp_path) -> sa.Engine:
    url = (
        f"sqlite:///{tmp_path / 'warehouse.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("mysql_url")
    )
    engine = make_engine(url)
    ensure_forecast_tables(engine)
    return engine


def query(engine: sa.Engine, name: str) -> pd.DataFrame:
    params = {"first_target": FIRST.isoformat(), "last_target": LAST.isoformat()}
    with engine.connect() as conn:
        sql = sa.text(render_sql(f"monitoring/{name}", engine.dialect.name))
        return pd.read_sql(sql, conn, params=params)


def test_the_warehouse_aggregates_equal_the_pandas_reference(warehouse: sa.Engine) -> None:
    rows = accuracy_frame()
    records = rows.astype(object).where(rows.notna(), None).to_dict(orient="records")
    with warehouse.begin() as conn:
        insert = sa.text(render_sql("monitoring/insert_accuracy", warehouse.dialect.name))
        conn.execute(insert, records)

    key = ["sku", "location_id", "run_date"]
    expected = accuracy_stats(rows).sort_values(key, ignore_index=True)
    got = query(warehouse, "select_accuracy_stats").astype({"model_version": str})
    got["run_date"] = pd.to_datetime(got["run_date"]).dt.date
    got = got.sort_values(key, ignore_index=True).loc[:, list(expected.columns)]
    assert len(got) == len(expected) > 0
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9)

    by_lag = lag_metrics_from_sums(query(warehouse, "select_accuracy_by_lag"))
    reference = lag_metrics(rows)
    assert list(by_lag["lag_days"]) == [1, 2, 3, 4]
    pd.testing.assert_frame_equal(by_lag, reference, check_dtype=False, rtol=1e-9)
    # Zero and unknown scales are left out of the scaled means, not turned into inf or 0.
    assert np.isfinite(by_lag[["rmsse", "mase", "pinball"]].to_numpy()).all()

    days = dict(query(warehouse, "select_live_days").astype({"model_version": str}).values)
    assert {k: int(v) for k, v in days.items()} == live_days(rows) == {"2": 7, "3": 6}

    summary = summarise_stats(got, by_lag, LAST, FIRST)
    pd.testing.assert_frame_equal(
        summary, summarise_accuracy(rows, LAST, FIRST), check_dtype=False, rtol=1e-9
    )
    assert set(summary["dimension"]) == {"all", "lag", "category", "location"}
    overall = summary.loc[summary["dimension"] == "all"].iloc[0]
    assert overall["n_rows"] == rows["actual"].notna().sum()
