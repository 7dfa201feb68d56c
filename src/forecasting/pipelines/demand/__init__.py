"""The daily demand pipeline's steps, callable from Airflow tasks and from the CLI alike.

One module per DAG task in :mod:`forecasting.pipelines.demand.steps`;
:func:`forecasting.pipelines.demand.run.run_pipeline` composes the same steps without
Airflow (the CLI's ``run``).

Each step takes the run's day, :class:`~forecasting.config.Settings`,
:class:`~forecasting.config.PipelineConfig`, the :class:`~forecasting.storage.Storage` every
worker reaches, and the *references* earlier steps returned (storage URIs, shard ids,
model versions); it returns a small JSON-ready result. Steps marked *per shard* run once
per catalogue shard (mapped tasks in the DAG); the others run once per date.

Every step is idempotent for its day: outputs are written to that day's folders on
storage and committed atomically (a new attempt replaces the last), training is skipped
when the cadence or an identical earlier run says so, and publishing replaces the day's
rows in one transaction. Only ``sync_source`` reads the shop's database.

    sync_source -> extract* -> validate* -> check -> build_features* -> backtest* -> fit*
                -> register -> score* -> publish -> monitor        (* per shard)
"""
