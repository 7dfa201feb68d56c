"""Which day a run forecasts from: its data interval, in the shop's timezone, as Airflow's
own timetable gives it for a scheduled run, a manual trigger and a backfill."""

from __future__ import annotations

from datetime import date

import pendulum
import pytest
from airflow.sdk.exceptions import AirflowFailException
from airflow.timetables.interval import CronDataIntervalTimetable
from forecasting_airflow.runtime import run_day_of


def context(interval) -> dict:
    return {"data_interval_start": interval.start, "data_interval_end": interval.end}


@pytest.mark.parametrize("shop_tz", ["UTC", "Europe/Berlin", "America/Los_Angeles"])
def test_scheduled_run_processes_the_day_that_just_ended(shop_tz: str) -> None:
    timetable = CronDataIntervalTimetable("@daily", timezone=shop_tz)
    # The run the scheduler creates for logical date 2024-06-30 covers that day.
    start = pendulum.datetime(2024, 6, 30, tz=shop_tz)
    interval = timetable.infer_manual_data_interval(run_after=start.add(days=1))
    assert interval.start == start
    assert run_day_of(context(interval), shop_tz) == date(2024, 6, 30)


@pytest.mark.parametrize("shop_tz", ["UTC", "Europe/Berlin", "America/Los_Angeles"])
def test_a_manual_trigger_at_15h_never_forecasts_from_a_half_finished_day(shop_tz: str) -> None:
    timetable = CronDataIntervalTimetable("@daily", timezone=shop_tz)
    at_15h = pendulum.datetime(2024, 7, 1, 15, 0, tz=shop_tz)
    interval = timetable.infer_manual_data_interval(run_after=at_15h)
    assert run_day_of(context(interval), shop_tz) == date(2024, 6, 30)


def test_a_backfill_gives_each_date_its_own_day() -> None:
    timetable = CronDataIntervalTimetable("@daily", timezone="UTC")
    days = []
    for d in range(20, 27):
        start = pendulum.datetime(2024, 6, d, tz="UTC")
        days.append(
            run_day_of(
                context(timetable.infer_manual_data_interval(run_after=start.add(days=1))), "UTC"
            )
        )
    assert days == [date(2024, 6, d) for d in range(20, 27)]


def test_the_shop_timezone_decides_the_day_of_a_utc_schedule() -> None:
    # A UTC interval ending at midnight UTC: 17:00 the day before in Los Angeles, whose
    # day is not over yet, so the run forecasts from the day before that.
    end = pendulum.datetime(2024, 7, 1, tz="UTC")
    ctx = {"data_interval_end": end}
    assert run_day_of(ctx, "UTC") == date(2024, 6, 30)
    assert run_day_of(ctx, "Europe/Berlin") == date(2024, 6, 30)
    assert run_day_of(ctx, "America/Los_Angeles") == date(2024, 6, 29)


def test_a_run_without_data_interval_fails_clearly() -> None:
    with pytest.raises(AirflowFailException, match="no data interval"):
        run_day_of({}, "UTC")
