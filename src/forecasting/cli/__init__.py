"""The ``forecasting`` command: the pipeline without Airflow, for analysts and benchmarks.

Run ``forecasting --help`` or ``forecasting <command> --help``.
"""

from forecasting.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
