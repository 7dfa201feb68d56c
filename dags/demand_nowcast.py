"""
### Intraday surge alert (hourly)

Every hour, for the moment the run's data interval ends (the shop's time), **judge**
compares each series' views and cart adds since the start of the shop's day with what the
latest published forecast for that day implies by this hour (events per unit sold over the
last 28 days x the forecast x the share of a day's events that happen before this time of
day), and replaces that hour's rows of `demand_alerts` with the series that run far above
or below (|z| >= 4, ratio >= 2 or <= 0.5, at least 20 events; see
`forecasting.behaviour.nowcast`). Judging the same hour again gives the same rows;
midnight judges the whole day before (hour 24). It never trains and never touches MLflow:
it reads `web_events`, `orders` and `demand_forecast` with aggregating queries and writes
one table. The first run of a shop day keeps the day's 28-day baseline (events per unit,
intraday profile, dispersion) in storage (`runs/ds=<day before>/nowcast_baseline`), so the
day's other runs read only today's events. The same step without Airflow: `forecasting nowcast --at "YYYY-MM-DD HH:MM"`.

**Why a schedule and not an Asset.** The only Asset in this deployment that knows about
events is the daily extraction, which brings the event log into the pipeline once a day,
after the day ended: an alert triggered by it would arrive a day late, which is exactly the
gap this DAG exists to close. Events land in the shop database continuously, not in
batches Airflow hears of, so the clock is the trigger that matches the data: an hourly
cron in the shop's timezone, `catchup=False` (a missed hour is superseded by the next: an
alert about 09:00 is worth nothing at 15:00) and `max_active_runs=1`.

Nothing to judge is not a failure: without `web_events`, without events in the last 28
days or on the day so far (a late feed), the task logs why and writes nothing. No forecast
published for the day fails at once, without retries. Connections: `forecasting_source`
(shop DB, SELECT only), `forecasting_warehouse` (`demand_forecast`, `demand_alerts`),
`forecasting_storage` (the baseline kept for the day, as the daily DAG's storage).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Param, dag, task
from airflow.sdk.definitions.timetables.interval import CronDataIntervalTimetable
from forecasting_airflow.params import CONNECTION_PARAMS, DEFAULT_ARGS
from forecasting_airflow.runtime import fail_without_retry, measured, sqlalchemy_url

#: Thresholds a run may override (``null``: the library's NowcastSettings defaults).
_THRESHOLDS = {
    "threshold": "smallest |z| that alerts (null: NowcastSettings.threshold)",
    "min_ratio": "observed/expected at least this or at most its inverse (null: the default)",
    "min_count": "observed or expected events at least this many (null: the default)",
}


@dag(
    dag_id="demand_nowcast",
    # Hours of the shop's clock: the run for 14:00-15:00 judges the day up to 15:00.
    schedule=CronDataIntervalTimetable(
        "@hourly", timezone=os.environ.get("FORECASTING_SHOP_TIMEZONE", "UTC")
    ),
    start_date=pendulum.datetime(2010, 1, 1, tz="UTC"),  # see demand_forecast
    catchup=False,  # a missed hour is superseded by the next one
    max_active_runs=1,  # one judgement at a time; each replaces its own hour's rows
    dagrun_timeout=timedelta(minutes=50),  # before the next hour starts
    tags=["forecasting", "demand", "nowcast"],
    doc_md=__doc__,
    default_args={
        **DEFAULT_ARGS,
        "retry_delay": timedelta(minutes=1),
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(minutes=30),
    },
    params={
        **{
            name: Param(default, type="string", description=description)
            for name, (default, description) in CONNECTION_PARAMS.items()
        },
        **{
            name: Param(None, type=["number", "null"], description=description)
            for name, description in _THRESHOLDS.items()
        },
    },
)
def demand_nowcast() -> None:
    @task
    @measured
    @fail_without_retry
    def judge(**context: Any) -> dict[str, Any]:
        from airflow.sdk import BaseHook, ObjectStoragePath
        from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

        from forecasting.behaviour.nowcast import NowcastSettings, nowcast
        from forecasting.config import Settings
        from forecasting.db import make_engine
        from forecasting.storage import Storage

        params = dict(context.get("params") or {})
        source = sqlalchemy_url(str(params.get("source_conn_id", "forecasting_source")))
        warehouse = sqlalchemy_url(str(params.get("warehouse_conn_id", "forecasting_warehouse")))
        settings = Settings.from_env(source_url=source, warehouse_url=warehouse or source)
        try:
            thresholds = NowcastSettings(
                **{k: params[k] for k in _THRESHOLDS if params.get(k) is not None}
            )
        except ValueError as exc:  # bad params never get better by retrying
            raise AirflowFailException(f"invalid DAG params: {exc}") from None
        storage_conn: str | None = str(params.get("storage_conn_id", "forecasting_storage"))
        try:
            BaseHook.get_connection(str(storage_conn))
        except AirflowNotFoundException:
            storage_conn = None  # a local folder, or credentials from the environment
        cache = Storage(ObjectStoragePath(settings.storage_uri, conn_id=storage_conn))
        at = context["data_interval_end"].in_timezone(settings.shop_timezone).naive()
        source_engine = make_engine(settings.source_url)
        warehouse_engine = (
            source_engine
            if settings.warehouse_url == settings.source_url
            else make_engine(settings.warehouse_url)
        )
        return nowcast(
            source_engine,
            warehouse_engine,
            at,
            shop_tz=settings.shop_timezone,
            source_tz=settings.source_timezone,
            settings=thresholds,
            cache=cache,
        ).to_dict()

    judge()


demand_nowcast()
