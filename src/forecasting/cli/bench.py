"""``forecasting benchmark``: our models vs open-source peers on a real dataset.

The benchmark code is the ``forecasting_bench`` package in ``bench/`` (not installed on a
production worker): ``pip install -e bench``, which ``make install`` does. The defaults
below are :func:`forecasting_bench.harness.run_benchmark`'s.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from forecasting.cli.errors import UsageError
from forecasting.cli.options import Parents, add_dataset

__all__ = ["DATASETS", "register"]

#: What ``benchmark`` measures: two demand datasets and the two customer models.
DATASETS = ("store-item-demand", "online-retail", "propensity", "recommendations")
#: The line a machine without the bench package gets.
MISSING = "the benchmark needs the bench package: pip install -e bench (make install does)"


def register(sub: Any, parents: Parents) -> None:
    """Add ``benchmark`` to the ``forecasting`` subcommands ``sub``."""
    p = parents.command(
        sub,
        "benchmark",
        "our models vs open-source peers on a real dataset, same rolling-origin windows",
        benchmark,
    )
    add_dataset(p, DATASETS)
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
        "--launches-csv",
        help="with --future-csv (online-retail): planned new products "
        "(sku,description,unit_price,launch_date, launching in the 28 days after the file); "
        "their forecasts are appended to the --future-csv file",
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


def benchmark(args: argparse.Namespace) -> int:
    """``forecasting benchmark DATASET``: run it and print the results table."""
    launches_csv = getattr(args, "launches_csv", None)
    if launches_csv and not args.future_csv:
        raise UsageError("--launches-csv needs --future-csv (the file the launches join)")
    if launches_csv and args.dataset != "online-retail":
        raise UsageError("--launches-csv is for online-retail (the dataset with launches)")
    try:  # imported only here: the bench package is a development install
        if args.dataset in ("propensity", "recommendations"):
            from forecasting_bench.customers import (
                propensity_benchmark,
                recommendations_benchmark,
            )
        else:
            from forecasting_bench.harness import run_benchmark
    except ModuleNotFoundError as exc:
        if exc.name != "forecasting_bench" and not str(exc.name).startswith("forecasting_bench."):
            raise  # the bench package is there; one of its own imports is not
        raise UsageError(MISSING) from exc

    if args.dataset == "propensity":
        propensity_benchmark(args.data_dir, args.scores_csv)
        return 0
    if args.dataset == "recommendations":
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
        model_params=_json(args.model_params, "--model-params"),
        output_dir=args.output_dir,
        shards=args.shards,
        # only when given: without --launches-csv the call is what it always was
        **({"launches_csv": launches_csv} if launches_csv else {}),
    )
    return 0


def _json(text: str | None, flag: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{flag} is not valid JSON: {exc}") from exc
