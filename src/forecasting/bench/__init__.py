"""Transitional: the benchmarks moved to ``bench/forecasting_bench`` (remove with cli.py's import)."""
