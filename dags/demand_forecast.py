"""
### Daily demand forecast

Every day, for the last complete day in the shop's timezone (the run's day *D*: the data
interval's end minus one day):

0. **lease** takes the run's lease on *D* (one run of a date at a time, whoever starts it:
   another DAG run, the CLI, another deployment) and repairs a stage pointer that names a
   missing attempt; **release** gives it back at the end, also when a task failed
   (Airflow setup and teardown tasks);
1. **sync_source** reads the shop database once: schema check, catalogue, data-quality
   counts, and the days of demand not yet in the incremental store (plus a look-back for
   late corrections), streamed month by month; decides the catalogue shards;
2. **extract** *(per shard)* builds the shard's history and future covariates from the store;
3. **validate** *(per shard)* runs the Great Expectations suites (fails without retries,
   naming the rule, the table and sample rows);
4. **check** runs the catalogue-level checks (latest day's volume, orphan order lines,
   never far fewer series than the last published run) and decides whether today trains
   (the champion is older than `retrain_every_days`, or data or configuration changed) or
   scores with an existing version;
5. **build_features** *(per shard)*: the panel the models' declared features come from;
6. **backtest** *(per shard)*: every candidate on rolling-origin windows (training days only);
7. **fit** *(per shard)*: the catalogue's best candidate fitted on all history;
8. **register**: MLflow run of the day, new version of `demand_forecast`, promotion rule;
   pins the version the day is scored with;
9. **score** *(per shard)* with the pinned version (P10 <= P50 <= P90, finite, plausible),
   explains each forecast (input groups' exact Shapley values by re-scoring, and what
   changed since the previous run: new data vs new model) and, with a
   `replenishment_policy` in the shop, suggests what to order;
10. **publish** every shard to `demand_forecast`, `demand_forecast_leadtime` (quantiles of
    total demand over 7, 14 and 28 days), `forecast_runs` and the planners' tables
    (`demand_forecast_drivers`, `demand_forecast_changes`, `replenishment_suggestions`,
    `forecast_products`, `demand_history`) in one transaction;
11. **monitor** joins every earlier forecast with the actuals that arrived, rewrites
    `forecast_accuracy` and the day's aggregates, and tags the champion
    `monitoring.decay` when its live accuracy broke its backtest's promise (the next run
    retrains; the task logs a `DECAY` warning);
12. **report** writes the planner report (HTML, next to the run's partitions and in the
    date's MLflow run).

Tasks hand each other URIs on the storage every worker reaches (`FORECASTING_STORAGE_URI`,
a local folder or `s3://...` through the `forecasting_storage` connection). Connections:
`forecasting_source` (shop DB, SELECT only), `forecasting_warehouse` (forecast tables).
Logic lives in the `forecasting` package; each task is one call into it.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import dag, setup, task, teardown
from airflow.sdk.definitions.timetables.interval import CronDataIntervalTimetable
from forecasting_airflow.params import DEFAULT_ARGS, pipeline_params
from forecasting_airflow.runtime import fail_without_retry, measured, run_context

from forecasting.names import DEMAND_PIPELINE


@dag(
    dag_id=DEMAND_PIPELINE,
    # Data intervals in the shop's timezone: the run for logical date D covers the shop's
    # day D and starts when it has ended.
    schedule=CronDataIntervalTimetable(
        "@daily", timezone=os.environ.get("FORECASTING_SHOP_TIMEZONE", "UTC")
    ),
    # Early on purpose: tasks of runs before start_date never run, and backfills or
    # `airflow dags test` of historical dates (the real datasets end in 2011 and 2017) must
    # work. catchup=False keeps the scheduler from creating those runs by itself.
    start_date=pendulum.datetime(2010, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # runs share the MLflow registry's @champion: one at a time
    dagrun_timeout=timedelta(hours=6),
    tags=["forecasting", "demand", "mlflow"],
    doc_md=__doc__,
    default_args=DEFAULT_ARGS,
    params=pipeline_params(),
)
def demand_forecast() -> None:
    @setup
    @measured
    @fail_without_retry
    def lease(**context: Any) -> dict[str, Any]:
        from forecasting.leases import begin_run

        ctx = run_context(context)
        return begin_run(ctx.run_day, ctx.lease, ctx.storage)

    @teardown
    @measured
    def release(taken: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.leases import end_run

        return end_run(run_context(context).lease)

    @task
    @measured
    @fail_without_retry
    def sync_source(**context: Any) -> list[dict[str, Any]]:
        from forecasting.pipelines.demand.steps.sync_source import sync_source_step

        ctx = run_context(context)
        orders = sync_source_step(ctx.run_day, ctx.config, ctx.resources)
        return [order.to_dict() for order in orders]

    @task
    @measured
    def extract(source: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.pipelines.demand.handoffs import WorkOrder
        from forecasting.pipelines.demand.steps.extract import extract_step

        ctx = run_context(context)
        order = WorkOrder.from_dict(source)
        return extract_step(ctx.run_day, order, ctx.config, ctx.resources).to_dict()

    @task
    @measured
    @fail_without_retry
    def validate(extracted: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.pipelines.demand.handoffs import Extracted
        from forecasting.pipelines.demand.steps.validate import validate_step

        ctx = run_context(context)
        result = Extracted.from_dict(extracted)
        return validate_step(ctx.run_day, result, ctx.config, ctx.resources).to_dict()

    @task
    @measured
    @fail_without_retry
    def check(
        validated: list[dict[str, Any]], sources: list[dict[str, Any]], **context: Any
    ) -> dict[str, Any]:
        from forecasting.pipelines.demand.handoffs import Validated, WorkOrder
        from forecasting.pipelines.demand.steps.check import check_step

        ctx = run_context(context)
        return check_step(
            ctx.run_day,
            [Validated.from_dict(v) for v in validated],
            [WorkOrder.from_dict(s) for s in sources],
            ctx.config,
            ctx.resources,
        ).to_dict()

    @task
    @measured
    def build_features(validated: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.pipelines.demand.handoffs import Validated
        from forecasting.pipelines.demand.steps.build_features import build_features_step

        ctx = run_context(context)
        result = Validated.from_dict(validated)
        return build_features_step(ctx.run_day, result, ctx.resources).to_dict()

    @task
    @measured
    def backtest(
        features: dict[str, Any], checked: dict[str, Any], **context: Any
    ) -> dict[str, Any]:
        from forecasting.pipelines.demand.handoffs import Checked, Features
        from forecasting.pipelines.demand.steps.backtest import backtest_step

        ctx = run_context(context)
        return backtest_step(
            ctx.run_day,
            Features.from_dict(features),
            Checked.from_dict(checked),
            ctx.config,
            ctx.resources,
        ).to_dict()

    @task
    @measured
    def fit(
        features: dict[str, Any],
        backtests: list[dict[str, Any]],
        checked: dict[str, Any],
        **context: Any,
    ) -> dict[str, Any]:
        from forecasting.pipelines.demand.handoffs import Backtested, Checked, Features
        from forecasting.pipelines.demand.steps.fit import fit_step

        ctx = run_context(context)
        return fit_step(
            ctx.run_day,
            Features.from_dict(features),
            [Backtested.from_dict(b) for b in backtests],
            Checked.from_dict(checked),
            ctx.config,
            ctx.resources,
        ).to_dict()

    @task
    @measured
    def register(
        fitted: list[dict[str, Any]],
        backtests: list[dict[str, Any]],
        checked: dict[str, Any],
        **context: Any,
    ) -> dict[str, Any]:
        from forecasting.pipelines.demand.handoffs import Backtested, Checked, Fitted
        from forecasting.pipelines.demand.steps.register import register_step

        ctx = run_context(context)
        return register_step(
            ctx.run_day,
            [Fitted.from_dict(f) for f in fitted],
            [Backtested.from_dict(b) for b in backtests],
            Checked.from_dict(checked),
            ctx.config,
            ctx.resources,
        ).to_dict()

    @task
    @measured
    @fail_without_retry
    def score(
        features: dict[str, Any], registered: dict[str, Any], **context: Any
    ) -> dict[str, Any]:
        from forecasting.pipelines.demand.handoffs import Features, Registered
        from forecasting.pipelines.demand.steps.score import score_step

        ctx = run_context(context)
        return score_step(
            ctx.run_day,
            Features.from_dict(features),
            Registered.from_dict(registered),
            ctx.config,
            ctx.resources,
        ).to_dict()

    @task
    @measured
    @fail_without_retry
    def publish(scored: list[dict[str, Any]], **context: Any) -> dict[str, Any]:
        from forecasting.pipelines.demand.handoffs import Scored
        from forecasting.pipelines.demand.steps.publish import publish_step

        ctx = run_context(context)
        results = [Scored.from_dict(s) for s in scored]
        return publish_step(ctx.run_day, results, ctx.config, ctx.resources).to_dict()

    @task
    @measured
    def monitor(
        features: list[dict[str, Any]],
        sources: list[dict[str, Any]],
        published: dict[str, Any],
        **context: Any,
    ) -> dict[str, Any]:
        from forecasting.pipelines.demand.handoffs import Features, WorkOrder
        from forecasting.pipelines.demand.steps.monitor import monitor_step

        ctx = run_context(context)
        return monitor_step(
            ctx.run_day,
            [Features.from_dict(f) for f in features],
            WorkOrder.from_dict(sources[0]),
            ctx.config,
            ctx.resources,
        ).to_dict()

    @task
    @measured
    def report(monitored: dict[str, Any], **context: Any) -> dict[str, Any]:
        from forecasting.reporting import write_report

        ctx = run_context(context)
        return write_report(ctx.run_day, ctx.settings, ctx.storage, resources=ctx.resources)

    taken = lease()
    sources = sync_source()  # one work order per catalogue shard
    taken >> sources
    extracted = extract.expand(source=sources)
    validated = validate.expand(extracted=extracted)
    checked = check(validated, sources)
    features = build_features.expand(validated=validated)
    backtests = backtest.partial(checked=checked).expand(features=features)
    fitted = fit.partial(backtests=backtests, checked=checked).expand(features=features)
    registered = register(fitted, backtests, checked)
    scored = score.partial(registered=registered).expand(features=features)
    published = publish(scored)
    reported = report(monitor(features, sources, published))
    reported >> release(taken)  # after every task, whether it succeeded or failed


demand_forecast()
