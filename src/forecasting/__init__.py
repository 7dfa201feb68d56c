"""Daily e-commerce demand forecasting.

The package is orchestrator-agnostic: Airflow's DAG (``dags/demand_forecast.py``) and the
``forecasting`` CLI both call the same steps: one module per DAG task in
:mod:`forecasting.pipelines.demand.steps` and :mod:`forecasting.pipelines.customers.steps`. Nothing here
imports Airflow.
"""

__version__ = "0.1.0"
