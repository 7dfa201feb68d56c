"""Commands that fill the shop's database: ``seed-demo``, ``import`` and ``init-db``.

Each prints one line a person reads (what was written where, counts); ``--json`` prints
the full result instead, and ``-v`` logs each table as it is loaded.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from forecasting.cli.options import Parents, add_dataset, add_json, print_json, redact, settings

__all__ = ["register"]

#: Datasets ``import`` reads from the data folder.
DATASETS = ("store-item-demand", "online-retail")


def register(sub: Any, parents: Parents) -> None:
    """Add the shop commands to the ``forecasting`` subcommands ``sub``."""
    p = parents.command(
        sub, "seed-demo", "load a synthetic shop into the source database", seed_demo, db=True
    )
    # The generator's defaults (forecasting.sources.synthetic.generate_shop; a unit test
    # keeps them equal): importing it here would load pandas for every --help.
    p.add_argument("--skus", type=int, default=30, help="products (default 30)")
    p.add_argument(
        "--locations", type=int, default=3, help="locations incl. the online channel (default 3)"
    )
    p.add_argument("--days", type=int, default=730, help="days of order history (default 730)")
    p.add_argument(
        "--end-date", default="2024-06-30", help="last day with orders (default 2024-06-30)"
    )
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument(
        "--planned-launches",
        type=int,
        default=None,
        help="products launching in the 21 days after --end-date, without orders "
        "(default: a tenth of --skus, at most 3)",
    )
    p.add_argument(
        "--no-reviews",
        dest="reviews",
        action="store_false",
        help="leave product_reviews empty (default: about 4%% of order lines get a review)",
    )
    p.add_argument(
        "--no-events",
        dest="events",
        action="store_false",
        help="leave web_events empty (default: views, cart adds and searches of the last "
        "120 days, about 30 views per order line; the demand is the same either way)",
    )
    add_json(p)

    p = parents.command(
        sub,
        "import",
        "load a real dataset from ../shared/data into the source database",
        import_dataset,
        db=True,
    )
    add_dataset(p, DATASETS)
    add_json(p)

    p = parents.command(
        sub,
        "init-db",
        "create tables and least-privilege MySQL users (an administrator's one-off step)",
        init_db,
        db=True,
    )
    p.add_argument(
        "--admin-url",
        help="SQLAlchemy URL of an administrator (default: the source URL); never logged",
    )
    for role, grants in (
        ("reader", "SELECT on the source tables"),
        ("writer", "SELECT/INSERT/DELETE on the forecast tables"),
        ("planner", "SELECT on the forecast tables"),
    ):
        p.add_argument(
            f"--{role}-user",
            help=f"create this user with {grants} (password: $FORECASTING_{role.upper()}_PASSWORD)",
        )
    p.add_argument(
        "--no-source-tables",
        action="store_true",
        help="the shop's tables already exist: create only the forecast tables",
    )
    add_json(p)


def seed_demo(args: argparse.Namespace) -> int:
    """``forecasting seed-demo``: generate a shop and load it (only into a database the
    loaders own)."""
    from forecasting.sources import load_shop
    from forecasting.sources.synthetic import generate_shop

    url = settings(args).source_url
    engine = _claimed(url, "seed-demo")
    shop = generate_shop(
        args.skus,
        args.locations,
        args.days,
        args.end_date,
        args.seed,
        planned_launches=args.planned_launches,
        reviews=args.reviews,
        events=args.events,
    )
    counts = load_shop(engine, shop, loaded_by="seed-demo")
    _loaded(args, "seed-demo", url, counts, args.end_date)
    return 0


def import_dataset(args: argparse.Namespace) -> int:
    """``forecasting import DATASET``: read a real dataset and load it as a shop."""
    from forecasting.sources import load_shop

    url = settings(args).source_url
    engine = _claimed(url, f"import {args.dataset}")
    if args.dataset == "store-item-demand":
        from forecasting.sources.store_item import (
            find_store_item_file,
            read_store_item_demand,
            store_item_shop,
        )

        shop = store_item_shop(read_store_item_demand(find_store_item_file(args.data_dir)))
    else:
        from forecasting.sources.online_retail import (
            find_online_retail_file,
            online_retail_shop,
            read_online_retail,
        )

        shop = online_retail_shop(read_online_retail(find_online_retail_file(args.data_dir)))
    last = str(shop.orders["ordered_at"].max().date())
    counts = load_shop(engine, shop, loaded_by=f"import {args.dataset}")
    _loaded(args, f"import {args.dataset}", url, counts, last)
    return 0


def init_db(args: argparse.Namespace) -> int:
    """``forecasting init-db``: tables and least-privilege users, as an administrator."""
    from forecasting.db import make_engine
    from forecasting.sources.admin import init_database

    done = init_database(
        make_engine(args.admin_url or settings(args).source_url),
        source_tables=not args.no_source_tables,
        reader=_user(args.reader_user, "FORECASTING_READER_PASSWORD"),
        writer=_user(args.writer_user, "FORECASTING_WRITER_PASSWORD"),
        planner=_user(args.planner_user, "FORECASTING_PLANNER_PASSWORD"),
    )
    if args.json:
        print_json(done)
        return 0
    tables = "source and forecast tables" if done["source_tables"] else "forecast tables"
    users = done["users"]
    names = f"; users {', '.join(users)}" if isinstance(users, list) and users else ""
    print(f"init-db: {tables} in {done['database']}{names}")
    return 0


def _user(name: str | None, env_var: str) -> tuple[str, str] | None:
    """A user to create and its password from ``env_var`` (never a flag: it would show in
    the process list)."""
    if not name:
        return None
    password = os.environ.get(env_var)
    if not password:
        raise ValueError(f"set the password of database user {name!r} in ${env_var}")
    return name, password


def _claimed(url: str, loaded_by: str) -> Any:
    """An engine on ``url`` once the loaders may write there (checked before any work)."""
    from forecasting.db import make_engine
    from forecasting.sources.shop import claim_database

    engine = make_engine(url)
    with engine.begin() as conn:
        claim_database(conn, loaded_by)
    return engine


def _loaded(
    args: argparse.Namespace, what: str, url: str, counts: dict[str, int], last_day: str
) -> None:
    """Print what a loader wrote: one line, or the full counts with ``--json``."""
    if args.json:
        print_json({"source": redact(url), "rows": counts, "last_day": last_day})
        return
    reviews = counts.get("product_reviews", 0)
    events = counts.get("web_events", 0)
    print(
        f"{what}: wrote {counts['orders']:,} orders ({counts['order_lines']:,} lines) of "
        f"{counts['products']:,} products at {counts['locations']:,} locations"
        + (f", {reviews:,} reviews" if reviews else "")
        + (f", {events:,} web events" if events else "")
        + f", up to {last_day}, into {redact(url)}"
    )
