"""What several commands share: the parent parsers of their common flags, adding a command
on them, the flags of a run date and of a dataset, the ``--date`` type, the settings the
flags point at, and how results are printed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = [
    "Command",
    "Parents",
    "add_dataset",
    "add_date",
    "add_json",
    "add_run_flags",
    "add_tracking",
    "add_warehouse",
    "iso_date",
    "print_json",
    "redact",
    "settings",
]


#: The help of ``--date``, ``--warehouse-url`` and ``--tracking-uri`` unless a command words
#: its own.
_DATE_HELP = "the run's day YYYY-MM-DD"
_WAREHOUSE_HELP = "SQLAlchemy URL the run published to"
_TRACKING_HELP = "MLflow tracking URI"

#: A command: the parsed flags in, the exit status out.
Command = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Parents:
    """Parent parsers a command's parser is built from (``parents=[...]``).

    Attributes:
        common: ``--data-root`` and ``-v/--verbose`` (every command).
        db: ``--source-url`` (commands that reach the shop's database).
        leased: ``--wait`` (commands that run a date and so hold its lease).
    """

    common: argparse.ArgumentParser
    db: argparse.ArgumentParser
    leased: argparse.ArgumentParser

    @classmethod
    def build(cls) -> Parents:
        """The three parents, each with its flags."""
        common = argparse.ArgumentParser(add_help=False)
        common.add_argument(
            "--data-root",
            help="data folder for partitions, SQLite files and MLflow "
            "(env FORECASTING_DATA_DIR, default ./.data)",
        )
        add_verbose(common, default=argparse.SUPPRESS)
        db = argparse.ArgumentParser(add_help=False)
        db.add_argument(
            "--source-url",
            help="SQLAlchemy URL of the shop database "
            "(env FORECASTING_SOURCE_URL; default SQLite in the data folder)",
        )
        leased = argparse.ArgumentParser(add_help=False)
        leased.add_argument(
            "--wait",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="if another run (CLI or Airflow) holds the date, wait this long for it to "
            "finish (default 0: stop at once, naming it)",
        )
        return cls(common=common, db=db, leased=leased)

    def command(
        self,
        sub: Any,
        name: str,
        help: str,
        func: Command,
        *,
        db: bool = False,
        leased: bool = False,
    ) -> argparse.ArgumentParser:
        """Add the command ``name`` to the subcommands ``sub``; returns its parser.

        Args:
            sub: The subcommands (what ``add_subparsers`` returned).
            name: The command's name.
            help: Its line in the list of commands.
            func: What it runs.
            db: Whether it takes ``--source-url``.
            leased: Whether it takes ``--wait`` (it runs a date, so holds its lease).
        """
        parents = [self.common, *([self.db] if db else []), *([self.leased] if leased else [])]
        parser: argparse.ArgumentParser = sub.add_parser(name, parents=parents, help=help)
        parser.set_defaults(func=func)
        return parser


def add_verbose(parser: argparse.ArgumentParser, default: Any = 0) -> None:
    """``-v/--verbose``: progress to stderr (``-vv``: debug detail); a failure shows its
    traceback. A command's own ``-v`` defaults to ``SUPPRESS`` so that it does not undo
    the global one (``forecasting -v run ...``)."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        help="log progress to stderr (-vv: debug detail); show the traceback of a failure",
    )


def add_date(parser: argparse.ArgumentParser, help: str = _DATE_HELP) -> None:
    """The required ``--date`` of a command about one run date."""
    parser.add_argument("--date", type=iso_date, required=True, help=help)


def add_warehouse(parser: argparse.ArgumentParser, help: str = _WAREHOUSE_HELP) -> None:
    """``--warehouse-url``: where the forecast tables are."""
    parser.add_argument("--warehouse-url", help=help)


def add_tracking(parser: argparse.ArgumentParser, help: str = _TRACKING_HELP) -> None:
    """``--tracking-uri``: the MLflow store."""
    parser.add_argument("--tracking-uri", help=help)


def add_run_flags(
    parser: argparse.ArgumentParser,
    date_help: str = _DATE_HELP,
    warehouse_help: str = _WAREHOUSE_HELP,
    tracking_help: str = _TRACKING_HELP,
) -> None:
    """A run date and where its results are: ``--date``, ``--warehouse-url`` and
    ``--tracking-uri``, each with its help text."""
    add_date(parser, date_help)
    add_warehouse(parser, warehouse_help)
    add_tracking(parser, tracking_help)


def add_dataset(parser: argparse.ArgumentParser, choices: Sequence[str]) -> None:
    """The ``dataset`` argument, one of ``choices``, and ``--data-dir``, the folder that
    holds the real datasets."""
    parser.add_argument("dataset", choices=choices)
    parser.add_argument(
        "--data-dir",
        default="../shared/data",
        help="folder holding the datasets (default ../shared/data)",
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    """``--json``: print the full result as JSON instead of the line a person reads."""
    parser.add_argument(
        "--json", action="store_true", help="print the full result as JSON instead of one line"
    )


def settings(args: argparse.Namespace) -> Any:
    """The :class:`~forecasting.config.Settings` the flags (and environment) point at."""
    from forecasting.config import Settings

    return Settings.from_env(
        data_dir=args.data_root,
        source_url=getattr(args, "source_url", None),
        warehouse_url=getattr(args, "warehouse_url", None),
        tracking_uri=getattr(args, "tracking_uri", None),
    )


def iso_date(text: str) -> date:
    """A ``YYYY-MM-DD`` flag value as a date (argparse reports anything else)."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def redact(url: str) -> str:
    """A database URL to print: its password hidden."""
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def print_json(obj: Any) -> None:
    """Print a command's result as indented JSON (dates and paths as strings)."""
    print(json.dumps(obj, indent=2, default=str))
