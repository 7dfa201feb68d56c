"""Compatibility shim for ``forecasting.cli.customers`` (remove at merge: import
:func:`forecasting.pipelines.customers.run.run_customer_pipeline` there)."""

from forecasting.pipelines.customers.run import run_customer_pipeline

__all__ = ["run_customer_pipeline"]
