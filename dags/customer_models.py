"""
### Customer models: purchase propensity and recommendations

Every day, for the run's day *D* (the last complete day in the shop's timezone):

0. **lease** takes the run's lease on *D* (one run of a date at a time, whoever starts
   it); **release** gives it back at the end, also after a failure;
1. **extract** reads `history_days` of order lines of identified customers from the shop
   database and pseudonymises customer and order ids as they are read (HMAC-SHA256 with
   the key in the `forecasting_customer_key` connection, variable or
   `FORECASTING_CUSTOMER_KEY`; no key, no run). Orders without a customer and customers
   in `customer_optouts` are left out, and the opted-out customers' rows are removed from
   every stored partition of every earlier date;
2. **validate** runs the Great Expectations suite (pseudonyms only, no nulls, sane values,
   enough history); a failure names the rule, the table and sample rows;
3. **train_propensity** and **train_recommendations** (in parallel): training cadence,
   backtest on cutoffs the models never saw, an MLflow run per model and date,
   a new registered version, the promotion rule (`@champion`); each pins the version
   the day is scored with;
4. **score** every customer with the pinned versions (MLflow pyfunc);
5. **publish** `customer_propensity` and `customer_recommendations` for *D* in one
   transaction, and delete every row of customers who asked to be forgotten. A model
   version trained before an opt-out is retrained at the next run (rule `optout`).

Daily, not on an Asset: the customer models read the shop database directly (the demand
DAG's hand-off holds aggregated demand, no customers), so they need nothing from
`demand_forecast` and a failure of one never holds up the other.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import dag, setup, task, teardown
from airflow.sdk.definitions.timetables.interval import CronDataIntervalTimetable
from forecasting_airflow.params import DEFAULT_ARGS, pipeline_params
from forecasting_airflow.runtime import customer_key, fail_without_retry, measured, run_context

from forecasting.customers.config import PROPENSITY_MODELS, RECOMMENDERS, CustomerConfig
from forecasting.names import CUSTOMER_PIPELINE


@dag(
    dag_id=CUSTOMER_PIPELINE,
    schedule=CronDataIntervalTimetable(
        "@daily", timezone=os.environ.get("FORECASTING_SHOP_TIMEZONE", "UTC")
    ),
    start_date=pendulum.datetime(2010, 1, 1, tz="UTC"),  # see demand_forecast
    catchup=False,
    max_active_runs=1,  # runs share each model's @champion
    dagrun_timeout=timedelta(hours=4),
    tags=["forecasting", "customers", "mlflow"],
    doc_md=__doc__,
    default_args=DEFAULT_ARGS,
    params=pipeline_params(
        CustomerConfig,
        {"propensity_models": PROPENSITY_MODELS, "recommenders": RECOMMENDERS},
    ),
)
def customer_models() -> None:
    @setup
    @measured
    @fail_without_retry
    def lease(**context: Any) -> dict[str, Any]:
        from forecasting.leases import begin_run

        ctx = run_context(context, CustomerConfig)
        return begin_run(ctx.run_day, ctx.lease, ctx.storage)

    @teardown
    @measured
    def release(taken: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.leases import end_run

        return end_run(run_context(context, CustomerConfig).lease)

    @task
    @measured
    @fail_without_retry
    def extract(**context: Any) -> dict[str, Any]:
        from forecasting.pipelines.customers.steps.extract import extract_customers_step

        ctx = run_context(context, CustomerConfig)
        return extract_customers_step(
            ctx.run_day, ctx.config, ctx.resources, customer_key()
        ).to_dict()

    @task
    @measured
    @fail_without_retry
    def validate(extracted: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.pipelines.customers.handoffs import Extracted
        from forecasting.pipelines.customers.steps.validate import validate_customers_step

        ctx = run_context(context, CustomerConfig)
        return validate_customers_step(
            ctx.run_day, Extracted.from_dict(extracted), ctx.resources
        ).to_dict()

    @task
    @measured
    @fail_without_retry
    def train_propensity(validated: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.pipelines.customers.handoffs import Validated
        from forecasting.pipelines.customers.steps.train import train_propensity_step

        ctx = run_context(context, CustomerConfig)
        return train_propensity_step(
            ctx.run_day, Validated.from_dict(validated), ctx.config, ctx.resources
        ).to_dict()

    @task
    @measured
    @fail_without_retry
    def train_recommendations(validated: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.pipelines.customers.handoffs import Validated
        from forecasting.pipelines.customers.steps.train import train_recommendations_step

        ctx = run_context(context, CustomerConfig)
        return train_recommendations_step(
            ctx.run_day, Validated.from_dict(validated), ctx.config, ctx.resources
        ).to_dict()

    @task
    @measured
    @fail_without_retry
    def score(
        validated: dict[str, Any],
        propensity: dict[str, Any],
        recommendations: dict[str, Any],
        **context: Any,
    ) -> dict[str, Any]:
        from forecasting.pipelines.customers.handoffs import Trained, Validated
        from forecasting.pipelines.customers.steps.score import score_customers_step

        ctx = run_context(context, CustomerConfig)
        return score_customers_step(
            ctx.run_day,
            Validated.from_dict(validated),
            Trained.from_dict(propensity),
            Trained.from_dict(recommendations),
            ctx.resources,
        ).to_dict()

    @task
    @measured
    @fail_without_retry
    def publish(scored: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.pipelines.customers.handoffs import Scored
        from forecasting.pipelines.customers.steps.publish import publish_customers_step

        ctx = run_context(context, CustomerConfig)
        return publish_customers_step(
            ctx.run_day, Scored.from_dict(scored), ctx.resources, customer_key()
        ).to_dict()

    taken = lease()
    extracted = extract()
    taken >> extracted
    validated = validate(extracted)
    scored = score(validated, train_propensity(validated), train_recommendations(validated))
    publish(scored) >> release(taken)  # after every task, also when one failed


customer_models()
