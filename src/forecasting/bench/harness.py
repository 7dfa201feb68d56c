"""Transitional re-export for ``forecasting.cli`` until it imports ``forecasting_bench``."""

from forecasting_bench.harness import run_benchmark

__all__ = ["run_benchmark"]
