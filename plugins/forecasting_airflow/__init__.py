"""Airflow glue for the ``forecasting`` package: run context, connections, error mapping.

Lives in ``plugins/`` under a unique top-level name (Airflow adds ``plugins/`` to
``sys.path``). Only this package and ``dags/`` import Airflow; nothing here imports
pandas, MLflow, Great Expectations or TensorFlow at module level, so DAG parsing stays fast.
"""
