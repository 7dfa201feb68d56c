"""The intraday surge alert without Airflow: ``forecasting nowcast --at "YYYY-MM-DD HH:MM"``
(:func:`forecasting.behaviour.nowcast.nowcast`, the step the ``demand_nowcast`` DAG runs
every hour)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from forecasting.cli.errors import UsageError
from forecasting.cli.options import Parents, add_json, add_warehouse, print_json, settings

__all__ = ["register"]

#: Alerts printed unless ``--top`` says otherwise.
TOP_ALERTS = 10


def shop_moment(text: str) -> datetime:
    """An ``--at`` value, ``YYYY-MM-DD HH:MM`` (the shop's time), as a naive datetime."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a 'YYYY-MM-DD HH:MM' moment: {text!r}") from exc


def register(sub: Any, parents: Parents) -> None:
    """Add ``nowcast`` to the ``forecasting`` subcommands ``sub``.

    The threshold flags default to :class:`~forecasting.behaviour.nowcast.NowcastSettings`'
    values (not imported here: building the parser stays free of pandas)."""
    p = parents.command(
        sub,
        "nowcast",
        "judge today's views and cart adds so far against the published forecast; write "
        "demand_alerts",
        nowcast,
        db=True,
    )
    p.add_argument(
        "--at",
        type=shop_moment,
        help="the moment judged, 'YYYY-MM-DD HH:MM' in the shop's timezone (default: now "
        "there); midnight judges the whole day before",
    )
    add_warehouse(p, "SQLAlchemy URL of demand_forecast and demand_alerts (default: the source)")
    p.add_argument(
        "--top", type=int, default=TOP_ALERTS, help=f"alerts printed (default {TOP_ALERTS})"
    )
    for flag, meaning in (
        ("--threshold", "smallest |z| that alerts"),
        ("--min-ratio", "observed/expected at least this, or at most its inverse"),
        ("--min-count", "observed or expected events at least this many"),
    ):
        name = flag[2:].replace("-", "_")
        p.add_argument(flag, type=float, help=f"{meaning} (default: NowcastSettings.{name})")
    p.add_argument("--dry-run", action="store_true", help="judge and print, write nothing")
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="read the 28-day baseline from the source even if today's is in storage",
    )
    add_json(p)


def nowcast(args: argparse.Namespace) -> int:
    """``forecasting nowcast``: judge a moment, write its alerts, print the largest."""
    from zoneinfo import ZoneInfo

    from forecasting.behaviour.nowcast import NowcastSettings
    from forecasting.behaviour.nowcast import nowcast as run_nowcast
    from forecasting.db import make_engine
    from forecasting.storage import Storage

    try:
        given = {
            k: getattr(args, k)
            for k in ("threshold", "min_ratio", "min_count")
            if getattr(args, k) is not None
        }
        nowcast_settings = NowcastSettings(**given)
    except ValueError as exc:
        raise UsageError(f"{exc} (--threshold, --min-ratio, --min-count)") from exc
    if args.top < 0:
        raise UsageError(f"--top must be 0 or more, got {args.top}")
    conf = settings(args)
    at = args.at or datetime.now(ZoneInfo(conf.shop_timezone)).replace(
        tzinfo=None, second=0, microsecond=0
    )
    source = make_engine(conf.source_url)
    warehouse = source if conf.warehouse_url == conf.source_url else make_engine(conf.warehouse_url)
    result = run_nowcast(
        source,
        warehouse,
        at,
        shop_tz=conf.shop_timezone,
        source_tz=conf.source_timezone,
        settings=nowcast_settings,
        write=not args.dry_run,
        cache=None if args.no_cache else Storage.from_uri(conf.storage_uri),
    )
    if args.json:
        out = result.to_dict()
        out["top"] = result.alerts.head(args.top).to_dict(orient="records")
        print_json(out)
        return 0
    print(f"Nowcast {at:%Y-%m-%d %H:%M} ({conf.shop_timezone}): {result.message}")
    if result.forecast_run_date is None or not result.series_judged:
        return 0
    print(
        f"  events up to hour {result.alert_hour} of {result.alert_date}: "
        f"{result.day_share:.0%} of a day's events expected by now; baseline "
        f"{result.baseline_days} day(s){' (stored earlier today)' if result.baseline_cached else ''}"
        f"; dispersion 1/theta "
        + ", ".join(f"{k} {v:.3f}" for k, v in result.inverse_theta.items())
        + f"; {result.seconds.get('total', 0.0):.2f} s"
    )
    shown = result.alerts.head(args.top)
    if len(shown):
        print(
            f"  {'sku':<16} {'location':<12} {'metric':<10} {'observed':>9} {'expected':>9} "
            f"{'ratio':>7} {'z':>7}  direction"
        )
        for r in shown.itertuples(index=False):
            print(
                f"  {str(r.sku)[:16]:<16} {str(r.location_id)[:12]:<12} {r.metric:<10} "
                f"{r.observed:>9.0f} {r.expected:>9.1f} {r.ratio:>7.2f} {r.z_score:>7.1f}  "
                f"{r.direction}"
            )
    if len(result.alerts) > len(shown):
        print(f"  ... and {len(result.alerts) - len(shown)} more")
    where = "not written (--dry-run)" if not result.written else "written to demand_alerts"
    print(f"  {len(result.alerts)} alert(s) {where} (alert_date {result.alert_date}, "
          f"alert_hour {result.alert_hour})")  # fmt: skip
    return 0
