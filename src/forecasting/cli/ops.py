"""Operators' commands: ``leases list``/``leases release`` (which runs hold which dates)
and ``check-storage`` (every committed stage of a date there and sealed)."""

from __future__ import annotations

import argparse
from typing import Any

from forecasting.cli.errors import UsageError
from forecasting.cli.options import Parents, add_date, add_warehouse, settings

__all__ = ["register"]

#: The help of the lease commands' ``--warehouse-url``.
LEASES_TABLE = "SQLAlchemy URL of the warehouse (the leases table)"


def register(sub: Any, parents: Parents) -> None:
    """Add ``leases`` and ``check-storage`` to the ``forecasting`` subcommands ``sub``."""
    group = sub.add_parser(
        "leases",
        help="the runs holding a date now (one run of a date at a time), and freeing one",
    )
    lsub = group.add_subparsers(dest="leases_command", required=True)
    p = parents.command(lsub, "list", "every lease, who holds it, since when", leases, db=True)
    add_warehouse(p, LEASES_TABLE)
    p = parents.command(
        lsub,
        "release",
        "free a lease whose holder is known to be gone (e.g. demand_forecast/2024-06-30)",
        leases,
        db=True,
    )
    p.add_argument("key", help="the lease, as `leases list` prints it")
    add_warehouse(p, LEASES_TABLE)

    p = parents.command(
        sub,
        "check-storage",
        "check that every committed stage of a run date is there and sealed",
        check_storage,
    )
    add_date(p)
    p.add_argument(
        "--repair",
        action="store_true",
        help="remove broken pointers, so the next run of the date writes those stages again",
    )


def leases(args: argparse.Namespace) -> int:
    """``forecasting leases list|release``: print the leases held, or free one."""
    from forecasting.db import make_engine
    from forecasting.leases import list_leases, release_lease

    engine = make_engine(settings(args).warehouse_url)
    if args.leases_command == "release":
        if not release_lease(engine, args.key):
            raise UsageError(f"no lease {args.key!r} is held (`forecasting leases list`)")
        print(f"released {args.key}")
        return 0
    held = list_leases(engine)
    for info in held:
        print(f"{info.key}: {info.describe()}")
    if not held:
        print("no leases held")
    return 0


def check_storage(args: argparse.Namespace) -> int:
    """``forecasting check-storage``: one line per problem; exit 1 if any is left."""
    from forecasting.storage import Storage

    storage = Storage.from_uri(settings(args).storage_uri)
    problems = storage.verify(args.date, repair=args.repair)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"storage of {args.date}: every committed stage is there and sealed")
    return 1 if problems and not args.repair else 0
