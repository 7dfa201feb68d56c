"""The ``forecasting`` command: the pipeline without Airflow, for analysts and benchmarks.

Run ``forecasting --help`` or ``forecasting <command> --help``. One module per command
group: :mod:`~forecasting.cli.shop` (``seed-demo``, ``import``, ``init-db``),
:mod:`~forecasting.cli.run` (``run``, ``summary``, ``report``),
:mod:`~forecasting.cli.customers` (``customers run|map``), :mod:`~forecasting.cli.ops`
(``leases``, ``check-storage``) and :mod:`~forecasting.cli.bench` (``benchmark``);
:mod:`~forecasting.cli.app` builds the parser from them and runs a command.
"""

from forecasting.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
