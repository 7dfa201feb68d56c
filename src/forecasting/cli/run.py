"""Commands about the daily demand run: ``run`` (the DAG's steps without Airflow),
``summary`` (what a run did, in a person's terms) and ``report`` (the planner report)."""

from __future__ import annotations

import argparse
from typing import Any

from forecasting.cli.config_flags import add_config_flags, config_from_args
from forecasting.cli.options import Parents, add_run_flags, print_json, settings

__all__ = ["register"]


def register(sub: Any, parents: Parents) -> None:
    """Add ``run``, ``summary`` and ``report`` to the ``forecasting`` subcommands ``sub``."""
    from forecasting.config import PipelineConfig

    p = parents.command(
        sub,
        "run",
        "run the daily pipeline for one logical date, without Airflow",
        run,
        db=True,
        leased=True,
    )
    add_run_flags(
        p,
        date_help="logical date YYYY-MM-DD (history up to and including it)",
        warehouse_help="SQLAlchemy URL to publish to "
        "(env FORECASTING_WAREHOUSE_URL; default: the source)",
        tracking_help="MLflow tracking URI "
        "(env MLFLOW_TRACKING_URI; default SQLite in the data folder)",
    )
    add_config_flags(p, PipelineConfig)

    p = parents.command(
        sub, "summary", "print what the run of a logical date did", summary, db=True
    )
    add_run_flags(p, date_help="logical date YYYY-MM-DD")

    p = parents.command(
        sub,
        "report",
        "rebuild the planner report (HTML) of a run date from its published tables",
        report,
        db=True,
    )
    add_run_flags(p)


def run(args: argparse.Namespace) -> int:
    """``forecasting run``: every step of the daily DAG for one date, then what each did."""
    from forecasting.config import PipelineConfig

    # A bad flag stops here, before anything is imported, read or written.
    config = config_from_args(args, PipelineConfig)
    from forecasting.pipelines.demand.run import run_pipeline

    results = run_pipeline(args.date, settings(args), config, lease_wait=args.wait)
    print_json(
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


def summary(args: argparse.Namespace) -> int:
    """``forecasting summary``: what the run of a date did, from its tables and MLflow."""
    from forecasting.reporting import run_summary

    print(run_summary(args.date, settings(args)))
    return 0


def report(args: argparse.Namespace) -> int:
    """``forecasting report``: rebuild a date's planner report and print where it is."""
    from forecasting.reporting import write_report
    from forecasting.storage import Storage

    conf = settings(args)
    written = write_report(args.date, conf, Storage.from_uri(conf.storage_uri))
    print(f"planner report for {args.date}: {written['uri']}")
    return 0
