"""Transitional re-export for ``forecasting.cli`` until it imports ``forecasting_bench``."""

from forecasting_bench.customers import propensity_benchmark, recommendations_benchmark

__all__ = ["propensity_benchmark", "recommendations_benchmark"]
