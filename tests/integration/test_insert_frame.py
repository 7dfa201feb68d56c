"""`insert_frame`: the bulk insert behind publishing and monitoring, on SQLite and MariaDB.

MariaDB rows travel as literals built a column at a time, so the test covers what a
literal can get wrong: quotes, backslashes, percent signs, SQL comments and non-ASCII in
keys, exact float round-trips, NaN as NULL, dates given as timestamps or date objects,
and chunks.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from forecasting.db import insert_frame, make_engine
from forecasting.publishing import ensure_forecast_tables

SKUS = [
    "plain",
    "qu'ote",
    'dou"ble',
    "back\\slash",
    "50% off",
    "x;-- y",
    "\u00fcml\u00e4ut \U0001f600",
]


def _frame() -> pd.DataFrame:
    n = len(SKUS)
    actual = np.array([0.1 + 0.2, 1e-300, np.nan, 123456789.123456789, -0.0, 7.0, 2.5])
    return pd.DataFrame(
        {
            "run_date": [date(2024, 6, 30)] * n,  # date objects
            "target_date": pd.date_range("2024-07-01", periods=n),  # timestamps
            "lag_days": np.arange(1, n + 1),
            "sku": SKUS,
            "location_id": "L1",
            "category": "c",
            "actual": actual,
            "forecast": np.linspace(0.5, 3.5, n),
            "p10": 0.0,
            "p50": 1.0 / 3.0,
            "p90": 2.0,
            "scale_mae1": np.nan,
            "scale_mse1": 1.5,
            "scale_mae7": 2.0,
            "model_version": "7",
        }
    )


@pytest.mark.parametrize("backend", ["sqlite", "mysql"])
def test_insert_frame_round_trips_every_value(
    backend: str, sqlite_url: str, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url if backend == "sqlite" else request.getfixturevalue("mysql_url")
    engine = make_engine(url)
    ensure_forecast_tables(engine)
    frame = _frame()
    with engine.begin() as conn:
        assert insert_frame(conn, "monitoring/insert_accuracy", frame, chunk_rows=3) == len(frame)
    with engine.connect() as conn:
        stored = pd.read_sql(sa.text("SELECT * FROM forecast_accuracy ORDER BY lag_days"), conn)
    assert stored["sku"].tolist() == SKUS
    assert pd.to_datetime(stored["target_date"]).tolist() == frame["target_date"].tolist()
    assert (pd.to_datetime(stored["run_date"]).dt.date == date(2024, 6, 30)).all()
    for column in ("actual", "forecast", "p50", "scale_mae1", "scale_mse1"):
        got, want = stored[column].to_numpy(float), frame[column].to_numpy(float)
        assert np.array_equal(got, want, equal_nan=True), column  # exact, NaN as NULL
    assert stored["actual"].isna().tolist() == frame["actual"].isna().tolist()


def test_insert_frame_refuses_what_it_cannot_write(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    ensure_forecast_tables(engine)
    frame = _frame()
    with engine.begin() as conn:
        with pytest.raises(ValueError, match="lacks columns"):
            insert_frame(conn, "monitoring/insert_accuracy", frame.drop(columns="category"))
        with pytest.raises(ValueError, match="infinite"):
            insert_frame(conn, "monitoring/insert_accuracy", frame.assign(forecast=np.inf))
        with pytest.raises(ValueError, match="not one INSERT"):
            insert_frame(conn, "monitoring/select_stored_actuals", frame)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM forecast_accuracy")).scalar() == 0
