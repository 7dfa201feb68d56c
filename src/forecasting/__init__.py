"""Daily e-commerce demand forecasting.

The package is orchestrator-agnostic: Airflow's DAG (``dags/demand_forecast.py``) and the
``forecasting`` CLI both call the same steps in :mod:`forecasting.pipeline`. Nothing here
imports Airflow.
"""

__version__ = "0.1.0"
