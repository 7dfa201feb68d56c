"""What one intraday nowcast costs on a large shop (the ``demand_nowcast`` DAG's task).

    .venv/bin/python bench/nowcast_scale.py [--source-url URL] [--warehouse-url URL]
        [--at "2024-07-01 15:00"] [--repeat 2] [--flat-forecast] [--no-cache]

Times :func:`forecasting.behaviour.nowcast.nowcast` end to end (the latest forecast, the
28-day baseline, today's events so far, the write of ``demand_alerts``) and each part, with
the process's peak memory above its start, ``--repeat`` times. The first run reads the
baseline from the source and keeps it in a temporary storage, as the day's first hourly run
of the DAG does; the next ones read it back, as the day's other runs do (``--no-cache``:
every run reads the source).

Defaults: ``FORECASTING_SOURCE_URL`` or ``mysql://root@127.0.0.1:3306/forecasting_scale``
(``make scale-seed``; its events cover the last 90 days up to 2024-07-01), the warehouse is
the source (``make scale-bench`` publishes the run of 2024-06-30 there, whose forecast for
2024-07-01 the default moment is judged against). ``--flat-forecast`` publishes, when no
forecast for the judged day exists yet, a flat one (each series' mean daily units of the
baseline) as the run of the day before: for a warehouse without the daily runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from datetime import datetime, timedelta

DEFAULT_URL = "mysql://root@127.0.0.1:3306/forecasting_scale"


def _flat_forecast(source, warehouse, at: datetime, shop_tz: str, source_tz: str) -> str:  # type: ignore[no-untyped-def]
    """Publish a flat forecast for ``at``'s day unless one exists; says what it did."""
    from forecasting.behaviour.nowcast import (
        NoForecastError,
        alert_moment,
        latest_forecast,
        read_baseline,
    )
    from forecasting.lifecycle.publish import TableWrite, publish_in_one_transaction
    from forecasting.publishing import ensure_forecast_tables

    day, _, _ = alert_moment(at)
    try:
        _, run_date = latest_forecast(warehouse, day)
        return f"a forecast for {day} exists (run {run_date}): judged against it"
    except NoForecastError:
        pass
    baseline = read_baseline(source, day, shop_tz=shop_tz, source_tz=source_tz)
    if baseline is None:
        return f"no web events before {day}: no flat forecast"
    rows = baseline.series.loc[baseline.series["units"] > 0, ["sku", "location_id"]].copy()
    mean = baseline.series.loc[rows.index, "units"] / baseline.days
    run_date = (day - timedelta(days=1)).isoformat()
    rows = rows.assign(
        run_date=run_date,
        target_date=day.isoformat(),
        forecast=mean,
        p10=mean * 0.5,
        p50=mean,
        p90=mean * 1.5,
        model_name="flat_bench",
        model_version="0",
        cold_start=0,
        history_days=baseline.days,
    )
    ensure_forecast_tables(warehouse)
    write = TableWrite(
        "publish/delete_demand_forecast",
        {"run_date": run_date},
        "publish/insert_demand_forecast",
        rows,
    )
    publish_in_one_transaction(warehouse, [write], f"flat forecast {run_date}")
    return f"published a flat forecast of {len(rows):,} series for {day} (run {run_date})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source-url", default=os.environ.get("FORECASTING_SOURCE_URL") or DEFAULT_URL
    )
    parser.add_argument("--warehouse-url", help="default: the source")
    parser.add_argument("--at", default="2024-07-01 15:00", help="shop time, YYYY-MM-DD HH:MM")
    parser.add_argument("--shop-timezone", default="UTC")
    parser.add_argument("--source-timezone", default="UTC")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--flat-forecast", action="store_true")
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args()

    from forecasting.behaviour.nowcast import nowcast
    from forecasting.db import make_engine, redact_url
    from forecasting.profiling import PeakMemory
    from forecasting.storage import Storage

    at = datetime.strptime(args.at, "%Y-%m-%d %H:%M")
    source = make_engine(args.source_url)
    warehouse = make_engine(args.warehouse_url) if args.warehouse_url else source
    tz = {"shop_tz": args.shop_timezone, "source_tz": args.source_timezone}
    print(f"source {redact_url(source.url)}, warehouse {redact_url(warehouse.url)}, at {at}")
    if args.flat_forecast:
        print(_flat_forecast(source, warehouse, at, args.shop_timezone, args.source_timezone))
    folder = tempfile.mkdtemp(prefix="nowcast-bench-")
    cache = None if args.no_cache else Storage.from_uri(folder)
    for attempt in range(1, args.repeat + 1):
        started = time.perf_counter()
        with PeakMemory() as memory:
            result = nowcast(source, warehouse, at, **tz, cache=cache)
        wall = time.perf_counter() - started
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in result.seconds.items() if k != "total")
        print(
            f"run {attempt}: {wall:.2f} s ({parts}; baseline "
            f"{'stored earlier' if result.baseline_cached else 'from the source'}), "
            f"peak RSS +{memory.peak_mb:.0f} MB: {result.message}"
        )
    print(json.dumps(result.to_dict(), indent=2))
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
