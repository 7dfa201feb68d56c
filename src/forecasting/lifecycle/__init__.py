"""One model lifecycle for the demand forecast and both customer models.

- :mod:`~forecasting.lifecycle.promotion`: the promotion rule (the metric's direction a
  parameter) and its decision;
- :mod:`~forecasting.lifecycle.serving`: registering a candidate, pinning the version that
  serves a day (moving ``@champion`` when promoted) and scoring through MLflow pyfunc;
- :mod:`~forecasting.lifecycle.pyfunc`: logging a model as a self-contained pyfunc model;
- :mod:`~forecasting.lifecycle.publish`: replacing a day's rows of several tables in one
  transaction.

Submodules are imported on their own (nothing is re-exported here), so the promotion rule
can be used without loading MLflow.
"""
