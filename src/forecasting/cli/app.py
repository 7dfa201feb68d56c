"""The ``forecasting`` command: the pipeline without Airflow, for analysts and benchmarks.

Run ``forecasting --help`` or ``forecasting <command> --help``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date
from typing import Any

__all__ = ["main"]

log = logging.getLogger("forecasting.cli")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("forecasting").setLevel(logging.INFO if verbose else logging.WARNING)
    for noisy in ("mlflow", "alembic", "great_expectations", "urllib3", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def _settings(args: argparse.Namespace) -> Any:
    from forecasting.config import Settings

    return Settings.from_env(
        data_dir=args.data_root,
        source_url=getattr(args, "source_url", None),
        warehouse_url=getattr(args, "warehouse_url", None),
        tracking_uri=getattr(args, "tracking_uri", None),
    )


class UsageError(ValueError):
    """A command-line value that cannot work, named by its flag."""


#: The CLI flag of each configuration field it sets (others keep their field names).
_FLAGS = {
    "horizon": "--horizon",
    "n_windows": "--n-windows",
    "history_days": "--history-days",
    "seed": "--seed",
    "shards": "--shards",
    "retrain_every_days": "--retrain-every-days",
    "lookback_days": "--lookback-days",
    "models": "--models",
    "model_params": "--model-params",
}


def _config(args: argparse.Namespace) -> Any:
    """The run configuration from the flags, validated (every candidate built with its
    overrides) before any work starts.

    Raises:
        UsageError: Naming the flag, what is wrong and the value given.
    """
    from pydantic import ValidationError

    from forecasting.config import PipelineConfig, describe_invalid

    given: dict[str, Any] = {}
    for key in (
        "horizon",
        "n_windows",
        "history_days",
        "seed",
        "shards",
        "retrain_every_days",
        "lookback_days",
    ):
        if getattr(args, key, None) is not None:
            given[key] = getattr(args, key)
    if getattr(args, "models", None):
        given["models"] = tuple(args.models.split(","))
    if getattr(args, "model_params", None):
        try:
            given["model_params"] = json.loads(args.model_params)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--model-params is not valid JSON: {exc}") from exc
    for flag in ("force_retrain", "full_refresh"):
        if getattr(args, flag, False):
            given[flag] = True
    try:
        return PipelineConfig(**given)
    except ValidationError as exc:
        raise UsageError(describe_invalid(exc, lambda f: _FLAGS.get(f, f))) from exc


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


# ---------------------------------------------------------------------------- commands
def cmd_seed_demo(args: argparse.Namespace) -> int:
    from forecasting.sources import load_shop
    from forecasting.sources.synthetic import generate_shop

    settings = _settings(args)
    engine = _claimed(settings.source_url, "seed-demo")
    shop = generate_shop(args.skus, args.locations, args.days, args.end_date, args.seed)
    counts = load_shop(engine, shop, loaded_by="seed-demo")
    _print({"source": _redact(settings.source_url), "rows": counts, "last_day": args.end_date})
    return 0


def _claimed(url: str, loaded_by: str) -> Any:
    """An engine on ``url`` once the loaders may write there (checked before any work)."""
    from forecasting.db import make_engine
    from forecasting.sources.shop import claim_database

    engine = make_engine(url)
    with engine.begin() as conn:
        claim_database(conn, loaded_by)
    return engine


def cmd_import(args: argparse.Namespace) -> int:
    from forecasting.sources import load_shop

    settings = _settings(args)
    engine = _claimed(settings.source_url, f"import {args.dataset}")
    if args.dataset == "store-item-demand":
        from forecasting.sources.store_item import (
            find_store_item_file,
            read_store_item_demand,
            store_item_shop,
        )

        shop = store_item_shop(read_store_item_demand(find_store_item_file(args.data_dir)))
        last = shop.orders["ordered_at"].max()
    else:
        from forecasting.sources.online_retail import (
            find_online_retail_file,
            online_retail_shop,
            read_online_retail,
        )

        shop = online_retail_shop(read_online_retail(find_online_retail_file(args.data_dir)))
        last = shop.orders["ordered_at"].max()
    counts = load_shop(engine, shop, loaded_by=f"import {args.dataset}")
    _print({"source": _redact(settings.source_url), "rows": counts, "last_day": str(last.date())})
    return 0


def cmd_init_db(args: argparse.Namespace) -> int:
    from forecasting.db import make_engine
    from forecasting.sources.admin import init_database

    def user(name: str | None, env_var: str) -> tuple[str, str] | None:
        if not name:
            return None
        password = os.environ.get(env_var)
        if not password:
            raise ValueError(f"set the password of database user {name!r} in ${env_var}")
        return name, password

    done = init_database(
        make_engine(args.admin_url or _settings(args).source_url),
        source_tables=not args.no_source_tables,
        reader=user(args.reader_user, "FORECASTING_READER_PASSWORD"),
        writer=user(args.writer_user, "FORECASTING_WRITER_PASSWORD"),
        planner=user(args.planner_user, "FORECASTING_PLANNER_PASSWORD"),
    )
    _print(done)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from forecasting.pipeline import run_pipeline

    config = _config(args)  # a bad flag stops here, before anything is read or written
    results = run_pipeline(args.date, _settings(args), config, lease_wait=args.wait)
    _print(
        {
            "extract": {
                "shards": len(results["extract"]),
                "rows": sum(e["rows"] for e in results["extract"]),
                "series": sum(e["series"] for e in results["extract"]),
                "source": results["sync_source"][0]["sync"],
            },
            "check": {
                "active_series": results["check"]["active_series"],
                "decision": results["check"]["decision"],
                "cleaning": results["check"]["cleaning"],
            },
            "register": {k: v for k, v in results["register"].items() if k != "decision"},
            "publish": results["publish"],
            "monitor": results["monitor"],
            "report": results["report"],
        }
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from forecasting.planner_report import write_report
    from forecasting.storage import Storage

    settings = _settings(args)
    written = write_report(args.date, settings, Storage.from_uri(settings.storage_uri))
    print(f"planner report for {args.date}: {written['uri']}")
    return 0


def cmd_customers_run(args: argparse.Namespace) -> int:
    from forecasting.customers.config import CustomerConfig
    from forecasting.customers.pipeline import run_customer_pipeline
    from forecasting.customers.privacy import customer_key
    from forecasting.storage import Storage

    settings = _settings(args)
    config = CustomerConfig(force_retrain=args.force_retrain)
    storage = Storage.from_uri(settings.storage_uri)
    _print(
        run_customer_pipeline(
            args.date, settings, config, storage, customer_key(), lease_wait=args.wait
        )
    )
    return 0


def cmd_leases(args: argparse.Namespace) -> int:
    from forecasting.db import make_engine
    from forecasting.leases import list_leases, release_lease

    engine = make_engine(_settings(args).warehouse_url)
    if args.leases_command == "release":
        if not release_lease(engine, args.key):
            raise UsageError(f"no lease {args.key!r} is held (`forecasting leases list`)")
        print(f"released {args.key}")
        return 0
    leases = list_leases(engine)
    for info in leases:
        print(f"{info.key}: {info.describe()}")
    if not leases:
        print("no leases held")
    return 0


def cmd_check_storage(args: argparse.Namespace) -> int:
    from forecasting.storage import Storage

    storage = Storage.from_uri(_settings(args).storage_uri)
    problems = storage.verify(args.date, repair=args.repair)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"storage of {args.date}: every committed stage is there and sealed")
    return 1 if problems and not args.repair else 0


def cmd_customers_map(args: argparse.Namespace) -> int:
    from forecasting.customers.privacy import write_pseudonym_map
    from forecasting.db import make_engine

    settings = _settings(args)
    rows = write_pseudonym_map(make_engine(settings.source_url), args.table)
    _print({"table": args.table, "rows": rows, "source": _redact(settings.source_url)})
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from forecasting.reporting import run_summary

    print(run_summary(args.date, _settings(args)))
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    from forecasting.bench.harness import run_benchmark

    if args.dataset == "propensity":
        from forecasting.customers.benchmark import propensity_benchmark

        propensity_benchmark(args.data_dir, args.scores_csv)
        return 0
    if args.dataset == "recommendations":
        from forecasting.customers.benchmark import recommendations_benchmark

        recommendations_benchmark(args.data_dir, args.recs_csv)
        return 0

    run_benchmark(
        args.dataset,
        data_dir=args.data_dir,
        future_csv=args.future_csv,
        leadtime_csv=args.leadtime_csv,
        windows=args.windows,
        max_series=args.max_series,
        models=None if not args.models else tuple(args.models.split(",")),
        peers=None if args.peers is None else tuple(p for p in args.peers.split(",") if p),
        model_params=json.loads(args.model_params) if args.model_params else None,
        output_dir=args.output_dir,
        shards=args.shards,
    )
    return 0


def _redact(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-root",
        help="data folder for partitions, SQLite files and MLflow (env FORECASTING_DATA_DIR, default ./.data)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument(
        "--source-url",
        help="SQLAlchemy URL of the shop database (env FORECASTING_SOURCE_URL; default SQLite in the data folder)",
    )

    leased = argparse.ArgumentParser(add_help=False)  # commands that run a date
    leased.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="if another run (CLI or Airflow) holds the date, wait this long for it to finish "
        "(default 0: stop at once, naming it)",
    )

    parser = argparse.ArgumentParser(prog="forecasting", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "seed-demo", parents=[common, db], help="load a synthetic shop into the source database"
    )
    p.add_argument("--skus", type=int, default=30, help="products (default 30)")
    p.add_argument(
        "--locations", type=int, default=3, help="locations incl. the online channel (default 3)"
    )
    p.add_argument("--days", type=int, default=730, help="days of order history (default 730)")
    p.add_argument(
        "--end-date", default="2024-06-30", help="last day with orders (default 2024-06-30)"
    )
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.set_defaults(func=cmd_seed_demo)

    p = sub.add_parser(
        "import",
        parents=[common, db],
        help="load a real dataset from ../shared/data into the source database",
    )
    p.add_argument("dataset", choices=["store-item-demand", "online-retail"])
    p.add_argument(
        "--data-dir",
        default="../shared/data",
        help="folder holding the datasets (default ../shared/data)",
    )
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "init-db",
        parents=[common, db],
        help="create tables and least-privilege MySQL users (an administrator's one-off step)",
    )
    p.add_argument(
        "--admin-url",
        help="SQLAlchemy URL of an administrator (default: the source URL); never logged",
    )
    p.add_argument(
        "--reader-user",
        help="create this user with SELECT on the source tables (password: $FORECASTING_READER_PASSWORD)",
    )
    p.add_argument(
        "--writer-user",
        help="create this user with SELECT/INSERT/DELETE on the forecast tables "
        "(password: $FORECASTING_WRITER_PASSWORD)",
    )
    p.add_argument(
        "--planner-user",
        help="create this user with SELECT on the forecast tables (password: $FORECASTING_PLANNER_PASSWORD)",
    )
    p.add_argument(
        "--no-source-tables",
        action="store_true",
        help="the shop's tables already exist: create only the forecast tables",
    )
    p.set_defaults(func=cmd_init_db)

    p = sub.add_parser(
        "run",
        parents=[common, db, leased],
        help="run the daily pipeline for one logical date, without Airflow",
    )
    p.add_argument(
        "--date",
        type=_date,
        required=True,
        help="logical date YYYY-MM-DD (history up to and including it)",
    )
    p.add_argument(
        "--warehouse-url",
        help="SQLAlchemy URL to publish to (env FORECASTING_WAREHOUSE_URL; default: the source)",
    )
    p.add_argument(
        "--tracking-uri",
        help="MLflow tracking URI (env MLFLOW_TRACKING_URI; default SQLite in the data folder)",
    )
    p.add_argument("--models", help="comma-separated candidates, e.g. seasonal_naive,hgb")
    p.add_argument(
        "--model-params", help='JSON of per-model overrides, e.g. \'{"hgb": {"max_iter": 100}}\''
    )
    p.add_argument("--horizon", type=int, help="days to forecast (default 28)")
    p.add_argument("--n-windows", type=int, help="scored backtest windows (default 3)")
    p.add_argument("--history-days", type=int, help="days of history to extract (default 1095)")
    p.add_argument("--seed", type=int, help="random seed (default 42)")
    p.add_argument("--shards", type=int, help="catalogue shards (default: one per 5,000 series)")
    p.add_argument(
        "--retrain-every-days", type=int, help="retrain when the champion is this old (default 7)"
    )
    p.add_argument(
        "--lookback-days", type=int, help="days re-extracted for late corrections (default 7)"
    )
    p.add_argument(
        "--force-retrain",
        action="store_true",
        help="train even if the cadence would score with the champion",
    )
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="extract the whole window from the source again (ignore the demand store)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "summary", parents=[common, db], help="print what the run of a logical date did"
    )
    p.add_argument("--date", type=_date, required=True, help="logical date YYYY-MM-DD")
    p.add_argument("--warehouse-url", help="SQLAlchemy URL the run published to")
    p.add_argument("--tracking-uri", help="MLflow tracking URI")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser(
        "report",
        parents=[common, db],
        help="rebuild the planner report (HTML) of a run date from its published tables",
    )
    p.add_argument("--date", type=_date, required=True, help="the run's day YYYY-MM-DD")
    p.add_argument("--warehouse-url", help="SQLAlchemy URL the run published to")
    p.add_argument("--tracking-uri", help="MLflow tracking URI")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("customers", help="the customer models (propensity, recommendations)")
    csub = p.add_subparsers(dest="customers_command", required=True)
    c = csub.add_parser(
        "run",
        parents=[common, db, leased],
        help="run the customer_models steps for a day without Airflow (key: $FORECASTING_CUSTOMER_KEY)",
    )
    c.add_argument("--date", type=_date, required=True, help="the run's day YYYY-MM-DD")
    c.add_argument("--warehouse-url", help="SQLAlchemy URL of the published tables")
    c.add_argument("--tracking-uri", help="MLflow tracking URI")
    c.add_argument("--force-retrain", action="store_true", help="train even if not due")
    c.set_defaults(func=cmd_customers_run)
    c = csub.add_parser(
        "map",
        parents=[common, db],
        help="for the shop: write customer_id -> pseudonym into a table of its own database",
    )
    c.add_argument(
        "--table",
        default="customer_pseudonyms",
        help="table to (re)create (default customer_pseudonyms)",
    )
    c.set_defaults(func=cmd_customers_map)

    p = sub.add_parser(
        "leases",
        help="the runs holding a date now (one run of a date at a time), and freeing one",
    )
    lsub = p.add_subparsers(dest="leases_command", required=True)
    c = lsub.add_parser("list", parents=[common, db], help="every lease, who holds it, since when")
    c.add_argument("--warehouse-url", help="SQLAlchemy URL of the warehouse (the leases table)")
    c.set_defaults(func=cmd_leases)
    c = lsub.add_parser(
        "release",
        parents=[common, db],
        help="free a lease whose holder is known to be gone (e.g. demand_forecast/2024-06-30)",
    )
    c.add_argument("key", help="the lease, as `leases list` prints it")
    c.add_argument("--warehouse-url", help="SQLAlchemy URL of the warehouse (the leases table)")
    c.set_defaults(func=cmd_leases)

    p = sub.add_parser(
        "check-storage",
        parents=[common],
        help="check that every committed stage of a run date is there and sealed",
    )
    p.add_argument("--date", type=_date, required=True, help="the run's day YYYY-MM-DD")
    p.add_argument(
        "--repair",
        action="store_true",
        help="remove broken pointers, so the next run of the date writes those stages again",
    )
    p.set_defaults(func=cmd_check_storage)

    p = sub.add_parser(
        "benchmark",
        parents=[common],
        help="our models vs open-source peers on a real dataset, same rolling-origin windows",
    )
    p.add_argument(
        "dataset", choices=["store-item-demand", "online-retail", "propensity", "recommendations"]
    )
    p.add_argument(
        "--data-dir",
        default="../shared/data",
        help="folder holding the datasets (default ../shared/data)",
    )
    p.add_argument(
        "--scores-csv",
        help="propensity: write customer_id,score (P(buys in the 28 days after the file)) here",
    )
    p.add_argument("--recs-csv", help="recommendations: write customer_id,rank,sku (top 10) here")
    p.add_argument(
        "--future-csv",
        help="also train on the whole file and write forecasts of the 28 days after it here",
    )
    p.add_argument(
        "--leadtime-csv",
        help="with --future-csv: also write P50/P80/P90/P95/P99 of total demand over the "
        "first 7, 14 and 28 of those days here (keys, days, p50..p99)",
    )
    p.add_argument(
        "--windows",
        type=int,
        default=3,
        help="scored 28-day windows at the end of the file (default 3)",
    )
    p.add_argument("--max-series", type=int, help="use only the first N series (smoke runs)")
    p.add_argument("--models", help="our candidates (default: the pipeline's)")
    p.add_argument(
        "--peers", help="comma-separated peers (default: all for the dataset; empty string: none)"
    )
    p.add_argument("--model-params", help="JSON of per-model overrides")
    p.add_argument(
        "--shards",
        type=int,
        default=1,
        help="train our models per catalogue shard, as the DAG does (default 1: one model)",
    )
    p.add_argument(
        "--output-dir",
        help="where to write the results table and forecasts (default: <data-root>/bench)",
    )
    p.set_defaults(func=cmd_benchmark)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``forecasting`` console script."""
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return int(args.func(args))
    except Exception as exc:  # one clear message for people; the traceback with -v
        if args.verbose:
            raise
        print(f"forecasting {args.command}: error: {_message(exc)}", file=sys.stderr)
        return 1


def _message(exc: Exception) -> str:
    """What went wrong, for a person: a database error is the driver's one line (never the
    SQL, the parameters or the URL with its password); validation reports keep their lines."""
    import errno

    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        orig = exc.orig if exc.orig is not None else exc
        return f"database error: {' '.join(str(orig).split())}"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = f" writing {exc.filename}" if exc.filename else ""
        return f"no space left on device{where}; free space on that disk and run again"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
