"""The ``customers`` commands: ``customers run`` (the customer_models DAG's steps without
Airflow) and ``customers map`` (the shop's own customer_id -> pseudonym table)."""

from __future__ import annotations

import argparse
from typing import Any

from forecasting.cli.config_flags import add_config_flags, config_from_args
from forecasting.cli.options import (
    Parents,
    add_json,
    add_run_flags,
    print_json,
    redact,
    settings,
)

__all__ = ["register"]


def register(sub: Any, parents: Parents) -> None:
    """Add ``customers run`` and ``customers map`` to the ``forecasting`` subcommands."""
    from forecasting.customers.config import CustomerConfig

    group = sub.add_parser("customers", help="the customer models (propensity, recommendations)")
    csub = group.add_subparsers(dest="customers_command", required=True)
    p = parents.command(
        csub,
        "run",
        "run the customer_models steps for a day without Airflow (key: $FORECASTING_CUSTOMER_KEY)",
        run,
        db=True,
        leased=True,
    )
    add_run_flags(p, warehouse_help="SQLAlchemy URL of the published tables")
    add_config_flags(p, CustomerConfig)

    p = parents.command(
        csub,
        "map",
        "for the shop: write customer_id -> pseudonym into a table of its own database",
        pseudonym_map,
        db=True,
    )
    p.add_argument(
        "--table",
        default="customer_pseudonyms",
        help="table to (re)create (default customer_pseudonyms)",
    )
    add_json(p)


def run(args: argparse.Namespace) -> int:
    """``forecasting customers run``: every customer_models step for one date."""
    from forecasting.customers.config import CustomerConfig

    config = config_from_args(args, CustomerConfig)  # a bad flag stops before any work
    from forecasting.customers.privacy import customer_key
    from forecasting.pipelines.customers.run import run_customer_pipeline
    from forecasting.storage import Storage

    conf = settings(args)
    storage = Storage.from_uri(conf.storage_uri)
    print_json(
        run_customer_pipeline(
            args.date, conf, config, storage, customer_key(), lease_wait=args.wait
        )
    )
    return 0


def pseudonym_map(args: argparse.Namespace) -> int:
    """``forecasting customers map``: (re)write the pseudonym table in the shop's database."""
    from forecasting.customers.privacy import write_pseudonym_map
    from forecasting.db import make_engine

    url = settings(args).source_url
    rows = write_pseudonym_map(make_engine(url), args.table)
    if args.json:
        print_json({"table": args.table, "rows": rows, "source": redact(url)})
    else:
        print(f"customers map: {rows:,} pseudonyms in {args.table} of {redact(url)}")
    return 0
