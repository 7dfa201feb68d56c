from datetime import date

import pandas as pd
import pytest

from forecasting.db import make_engine
from forecasting.names import LAUNCH_MODEL_NAME
from forecasting.publishing import (
    PublishedRun,
    PublishGuardError,
    publish_forecasts,
    read_published,
)


def forecasts(scale: float = 1.0) -> pd.DataFrame:
    days = pd.date_range("2024-07-01", periods=3)
    return pd.DataFrame(
        {
            "unique_id": ["A@x"] * 3 + ["B@x"] * 3,
            "sku": ["A"] * 3 + ["B"] * 3,
            "location_id": "x",
            "ds": list(days) * 2,
            "forecast": [1.0 * scale, 2, 3, 4, 5, 6],
            "p10": [0.0, 1, 2, 3, 4, 5],
            "p50": [1.0 * scale, 2, 3, 4, 5, 6],
            "p90": [2.0 * scale, 3, 4, 5, 6, 7],
        }
    )


RUN = PublishedRun(date(2024, 6, 30), "demand_forecast", "3", "abc", 3, 2, 6)


def test_rerun_replaces_rows_and_never_duplicates(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    assert publish_forecasts(engine, forecasts(), RUN) == 6
    other_day = PublishedRun(date(2024, 6, 29), "demand_forecast", "2", "old", 3, 2, 6)
    publish_forecasts(engine, forecasts(), other_day)
    publish_forecasts(engine, forecasts(scale=1.5), RUN)
    rows, run = read_published(engine, date(2024, 6, 30))
    assert len(rows) == 6 and len(run) == 1
    assert rows.loc[0, "forecast"] == 1.5 and rows.loc[0, "p90"] == 3.0
    assert run.loc[0, "model_version"] == "3" and run.loc[0, "row_count"] == 6
    assert len(read_published(engine, date(2024, 6, 29))[0]) == 6  # other dates untouched


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(p10=f["p50"] + 1), "P10 <= P50 <= P90"),
        (lambda f: f.assign(p50=-f["p50"]), "negative"),
        (lambda f: pd.concat([f, f.iloc[[0]]]), "duplicate keys"),
    ],
)
def test_bad_forecasts_publish_nothing(sqlite_url: str, change, message: str) -> None:
    engine = make_engine(sqlite_url)
    publish_forecasts(engine, forecasts(), RUN)
    with pytest.raises(ValueError, match=message):
        publish_forecasts(engine, change(forecasts(scale=9.0)), RUN)
    rows, _ = read_published(engine, RUN.run_date)
    assert rows["forecast"].tolist() == forecasts()["forecast"].tolist()  # the old rows stand


def test_a_failure_inside_the_transaction_rolls_back(sqlite_url: str) -> None:
    import sqlalchemy as sa

    engine = make_engine(sqlite_url)
    publish_forecasts(engine, forecasts(), RUN)
    broken = forecasts(scale=9.0)
    broken.loc[5, "sku"] = None  # NOT NULL violation on the last insert, after the DELETE
    with pytest.raises(sa.exc.IntegrityError):
        publish_forecasts(engine, broken, RUN)
    rows, run = read_published(engine, RUN.run_date)
    assert rows["forecast"].tolist() == forecasts()["forecast"].tolist()
    assert len(run) == 1


def test_publishing_far_fewer_series_than_before_is_refused(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    publish_forecasts(engine, forecasts(), RUN, min_series_ratio=0.8)
    one_series = forecasts().iloc[:3]
    shrunk = PublishedRun(date(2024, 6, 30), "demand_forecast", "4", "def", 3, 1, 3)
    with pytest.raises(PublishGuardError, match="fewer than 80% of the 2 that this date's"):
        publish_forecasts(engine, one_series, shrunk, min_series_ratio=0.8)
    nothing = PublishedRun(date(2024, 7, 1), "demand_forecast", "4", "def", 3, 0, 0)
    with pytest.raises(PublishGuardError, match="no forecasts to publish"):
        publish_forecasts(engine, one_series.iloc[:0], nothing, min_series_ratio=0.8)
    rows, run = read_published(engine, RUN.run_date)
    assert len(rows) == 6 and run.loc[0, "model_version"] == "3"  # untouched


def test_keys_longer_than_the_columns_publish_nothing(sqlite_url: str) -> None:
    long_key = forecasts().assign(sku=lambda f: f["sku"] + "x" * 300)
    with pytest.raises(ValueError, match="longer than 255"):
        publish_forecasts(make_engine(sqlite_url), long_key, RUN)


def test_new_products_rows_say_cold_start_and_an_old_table_is_upgraded(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:  # demand_forecast as an earlier version created it
        conn.exec_driver_sql(
            "CREATE TABLE demand_forecast (run_date DATE NOT NULL, sku VARCHAR(255) NOT NULL,"
            " location_id VARCHAR(255) NOT NULL, target_date DATE NOT NULL,"
            " forecast DOUBLE PRECISION NOT NULL, p10 DOUBLE PRECISION NOT NULL,"
            " p50 DOUBLE PRECISION NOT NULL, p90 DOUBLE PRECISION NOT NULL,"
            " model_name VARCHAR(64) NOT NULL, model_version VARCHAR(16) NOT NULL,"
            " PRIMARY KEY (run_date, sku, location_id, target_date))"
        )
    frame = forecasts().assign(
        cold_start=[False] * 3 + [True] * 3, history_days=[400] * 3 + [5] * 3
    )
    publish_forecasts(engine, frame, RUN)
    rows, _ = read_published(engine, RUN.run_date)
    new = rows.loc[rows["sku"] == "B"]
    assert set(new["cold_start"]) == {1} and set(new["history_days"]) == {5}
    assert set(new["model_name"]) == {LAUNCH_MODEL_NAME}
    old = rows.loc[rows["sku"] == "A"]
    assert set(old["cold_start"]) == {0} and set(old["model_name"]) == {"demand_forecast"}
