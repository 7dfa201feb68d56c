"""The ``customer_models`` DAG's steps (one module per task in ``steps/``), their typed
hand-offs (``handoffs.py``) and :func:`~forecasting.pipelines.customers.run.run_customer_pipeline`,
which runs them in order without Airflow."""
