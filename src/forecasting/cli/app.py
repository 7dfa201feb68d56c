"""The ``forecasting`` command's parser, built from its command groups, and its entry point.

Each group (:mod:`~forecasting.cli.shop`, :mod:`~forecasting.cli.run`,
:mod:`~forecasting.cli.customers`, :mod:`~forecasting.cli.nowcast`,
:mod:`~forecasting.cli.planner_app`, :mod:`~forecasting.cli.ops`,
:mod:`~forecasting.cli.bench`) adds its commands with ``register(sub, parents)``; each
command is a function of the parsed flags that returns the exit status.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from forecasting.cli import bench, customers, nowcast, ops, planner_app, run, shop
from forecasting.cli.errors import message
from forecasting.cli.options import Parents, add_verbose

__all__ = ["build_parser", "main"]

DESCRIPTION = """The ``forecasting`` command: the pipeline without Airflow, for analysts and benchmarks.

Run ``forecasting --help`` or ``forecasting <command> --help``.
"""

#: Third-party loggers kept at WARNING even with -v (their INFO is not about our run).
NOISY = ("mlflow", "alembic", "great_expectations", "urllib3", "matplotlib")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="forecasting", description=DESCRIPTION)
    add_verbose(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    parents = Parents.build()
    for group in (shop, run, customers, nowcast, planner_app, ops, bench):
        group.register(sub, parents)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``forecasting`` console script.

    Args:
        argv: The arguments (default: the process's).

    Returns:
        The exit status: 0 done, 1 failed (one line on stderr; the traceback with ``-v``),
        or the command's own (``check-storage`` returns 1 when problems are left).
    """
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        return int(args.func(args))
    except Exception as exc:  # one clear message for people; the traceback with -v
        if args.verbose:
            raise
        print(f"forecasting {args.command}: error: {message(exc)}", file=sys.stderr)
        return 1


def setup_logging(verbose: int) -> None:
    """Warnings only by default; ``-v`` logs our progress (INFO), ``-vv`` debug detail and
    the libraries' INFO (MLflow, Alembic, GX). Also turns off the libraries' telemetry and
    TensorFlow's start-up lines."""
    level = logging.WARNING if not verbose else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("forecasting").setLevel(level)
    third_party = logging.WARNING if verbose < 2 else logging.INFO
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(third_party)
    # MLflow sets its own loggers' level when imported (after this): tell it by environment.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", logging.getLevelName(third_party))
    # TensorFlow's start-up lines, as the Makefile and the compose file silence them.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
