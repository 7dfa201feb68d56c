"""One module per task of the ``demand_forecast`` DAG, named after the task.

Each module holds its step function (``<task>_step``) and the step's private helpers; the
DAG's task imports exactly the step it calls.
"""
