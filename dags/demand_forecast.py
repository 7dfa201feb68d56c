"""
### Daily demand forecast

Every day, for the day that just ended (the run's logical date *D*):

1. **extract** demand per SKU x location (non-cancelled order lines, zeros filled), prices,
   promotions and events from the shop database into a parquet partition for *D*;
2. **validate** it with Great Expectations (fails fast, without retries, naming the rule,
   the table and sample rows; nothing downstream runs);
3. **build_features**: the panel every model's declared features are computed from;
4. **train**: rolling-origin backtest of every candidate, winner fitted on all history,
   everything logged to MLflow (experiment `demand_forecast`);
5. **register**: new version of `demand_forecast`; `@champion` moves only if it beats the
   champion and seasonal naive on the same windows;
6. **score** the next `horizon` days with `@champion` (P10 <= P50 <= P90);
7. **publish** to `demand_forecast` / `forecast_runs` in one transaction (a re-run of *D*
   replaces *D*'s rows).

Connections: `forecasting_source` (shop DB) and `forecasting_warehouse` (defaults to the
source); without them, `FORECASTING_SOURCE_URL` or a local SQLite file is used. Logic lives
in the `forecasting` package; each task is one call into it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Param, dag, task
from airflow.sdk.definitions.timetables.interval import CronDataIntervalTimetable
from forecasting_airflow.runtime import fail_without_retry, run_context

DEFAULT_MODELS = ["seasonal_naive", "linear", "linear_hurdle", "hgb", "mlp", "ensemble"]


@dag(
    dag_id="demand_forecast",
    # Data intervals: the run for logical date D covers [D, D + 1 day) and starts after it ends.
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    # Early on purpose: tasks of runs before start_date never run, and backfills or
    # `airflow dags test` of historical dates (the real datasets end in 2011 and 2017) must
    # work. catchup=False keeps the scheduler from creating those runs by itself.
    start_date=pendulum.datetime(2010, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # runs share the MLflow registry's @champion: one at a time
    dagrun_timeout=timedelta(hours=6),
    tags=["forecasting", "demand", "mlflow"],
    doc_md=__doc__,
    default_args={
        "owner": "forecasting",
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=2),
    },
    params={
        "horizon": Param(
            28, type="integer", minimum=1, maximum=366, description="days to forecast"
        ),
        "n_windows": Param(
            3, type="integer", minimum=1, maximum=52, description="scored backtest windows"
        ),
        "history_days": Param(
            1095, type="integer", minimum=60, description="days of history to extract"
        ),
        "models": Param(DEFAULT_MODELS, type="array", description="candidate models"),
        "model_params": Param(
            {}, type="object", description='overrides, e.g. {"hgb": {"max_iter": 100}}'
        ),
        "force_retrain": Param(
            False, type="boolean", description="train even if this date's run exists"
        ),
        "source_conn_id": Param("forecasting_source", type="string"),
        "warehouse_conn_id": Param("forecasting_warehouse", type="string"),
    },
)
def demand_forecast() -> None:
    @task
    def extract(**context: Any) -> dict[str, Any]:
        from forecasting.pipeline import extract_step

        ctx = run_context(context)
        return extract_step(ctx.run_date, ctx.settings, ctx.config)

    @task
    @fail_without_retry
    def validate(extracted: dict[str, Any]) -> dict[str, Any]:
        from forecasting.pipeline import validate_step

        return validate_step(extracted["path"])

    @task
    def build_features(
        extracted: dict[str, Any], validated: dict[str, Any], **context: Any
    ) -> dict[str, Any]:
        from forecasting.pipeline import build_features_step

        ctx = run_context(context)
        info = build_features_step(ctx.run_date, extracted["path"], ctx.settings)
        info.pop("features")  # long list: it is in features.json and MLflow
        return {**info, "validation_report": validated["report_path"]}

    @task
    def train(features: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.pipeline import train_step

        ctx = run_context(context)
        outcome = train_step(
            ctx.run_date, features["path"], ctx.settings, ctx.config, features["validation_report"]
        )
        outcome.pop("table", None)
        return outcome

    @task
    def register(trained: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.pipeline import register_step

        ctx = run_context(context)
        return register_step(trained, ctx.settings, ctx.config)

    @task
    @fail_without_retry
    def score(
        features: dict[str, Any], registered: dict[str, Any], **context: Any
    ) -> dict[str, Any]:
        from forecasting.pipeline import score_step

        ctx = run_context(context)
        return score_step(ctx.run_date, features["path"], ctx.settings, ctx.config)

    @task
    def publish(scored: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.pipeline import publish_step

        ctx = run_context(context)
        return publish_step(ctx.run_date, scored["path"], ctx.settings, ctx.config)

    extracted = extract()
    features = build_features(extracted, validate(extracted))
    publish(score(features, register(train(features))))


demand_forecast()
