"""Event extraction from MariaDB: ConnectorX against PyMySQL streaming, and a whole sync.

    python bench/event_extraction.py seed  --source-url URL [--events-per-day 100000] [--days 30]
    python bench/event_extraction.py bench --source-url URL --last-day YYYY-MM-DD [--days 30]

``seed`` fills a throwaway database (created; refused if it holds a real shop) with a small
generated shop (:func:`~forecasting.sources.synthetic.generate_shop`) and
``--events-per-day`` web events a day for ``--days`` days up to the shop's last day,
bulk-loaded with ``LOAD DATA``. Any database whose ``web_events`` holds rows serves
``bench`` as well, e.g. the scale shop of ``make scale-seed``.

``bench`` measures, each in a fresh process (so one's peak memory is not the next one's
floor), over the ``--days`` shop days ending at ``--last-day`` (``seed`` prints it):

* ``raw`` per reader (``connectorx``, ``sqlalchemy`` = PyMySQL's server-side cursor): the
  driver alone, the day's query into a frame, nothing else;
* ``read`` per reader: :func:`~forecasting.behaviour.source.read_web_events` day by day
  (the driver plus pseudonymising and typing the columns), rows/s and peak RSS (MiB above
  the process at start);
* ``sync``: a full :meth:`~forecasting.behaviour.store.EventStore.sync` into a temporary
  folder with the default reader (reading, Great Expectations checks, cleaning,
  aggregation and the month files): seconds, rows/s and peak RSS.

It prints one JSON line per measurement and a summary. Drop a seeded database with
``mariadb -h 127.0.0.1 -u root -e "DROP DATABASE forecasting_events_bench"``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_URL = "mysql://root@127.0.0.1:3306/forecasting_events_bench"
#: Event types of the seeded log and their shares (views dominate, as on a real site).
SEED_MIX = {"view": 0.80, "cart_add": 0.07, "cart_remove": 0.02, "wishlist": 0.03, "search": 0.08}


def seed(args: argparse.Namespace) -> None:
    """Create the database and load a generated shop plus its web events."""
    import numpy as np
    import pandas as pd
    import sqlalchemy as sa

    from forecasting.db import execute_script, make_engine, render_sql
    from forecasting.sources.shop import load_shop
    from forecasting.sources.synthetic import generate_shop

    url = sa.make_url(args.source_url)
    with make_engine(url._replace(database=None)).begin() as conn:
        execute_script(conn, "schema/create_database", database=str(url.database))
    engine = make_engine(url)
    shop = generate_shop(args.skus, 3, days=max(args.days, 60), reviews=False)
    load_shop(engine, shop, loaded_by="bench/event_extraction.py")
    rng = np.random.default_rng(args.seed)
    skus = shop.products["sku"].to_numpy()
    words = shop.products["name"].str.lower().str.split().explode().dropna().unique()
    locations = shop.locations["location_id"].to_numpy()
    last = pd.Timestamp(shop.orders["ordered_at"].max()).normalize()
    folder = Path(tempfile.mkdtemp(prefix="events-seed-"))
    path = folder / "web_events.tsv"
    kinds, shares = list(SEED_MIX), np.array(list(SEED_MIX.values()))
    started = time.perf_counter()
    total = 0
    for d in range(args.days):
        day = last - pd.Timedelta(days=args.days - 1 - d)
        n = args.events_per_day
        session = rng.integers(0, n // 8, n)
        kind = np.array(kinds)[rng.choice(len(kinds), n, p=shares)]
        is_search = kind == "search"
        customer = np.where(session % 3 == 0, session // 2, -1)
        frame = pd.DataFrame(
            {
                "event_id": [f"E{d:04d}-{i:08d}" for i in range(n)],
                "occurred_at": (
                    day + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
                ).strftime("%Y-%m-%d %H:%M:%S"),
                "session_id": [f"S{d:04d}-{s:07d}" for s in session],
                "customer_id": pd.Series([f"C{c:07d}" for c in customer]).where(customer >= 0),
                "event_type": kind,
                "sku": pd.Series(skus[rng.integers(0, len(skus), n)]).where(~is_search),
                "location_id": locations[0],
                "query": pd.Series(words[rng.integers(0, len(words), n)]).where(is_search),
            }
        )
        frame.to_csv(path, sep="\t", header=False, index=False, na_rep="\\N", mode="a")
        total += n
    loader = make_engine(url, local_infile=True)
    with loader.begin() as conn:
        execute_script(conn, "schema/delete_all_rows", table="web_events")
        conn.execute(
            sa.text(render_sql("schema/load_tsv", "mysql", table="web_events")), {"path": str(path)}
        )
    path.unlink()
    folder.rmdir()
    print(
        json.dumps(
            {
                "seeded_events": total,
                "days": args.days,
                "last_day": last.date().isoformat(),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


def _days(args: argparse.Namespace) -> tuple[date, date]:
    last = date.fromisoformat(args.last_day)
    return last - timedelta(days=args.days - 1), last


def measure(args: argparse.Namespace) -> None:
    """One measurement in this process (``bench`` runs each in a fresh one)."""
    import pandas as pd

    from forecasting.behaviour.source import read_web_events, sync_key
    from forecasting.behaviour.store import EventStore
    from forecasting.config import DataChecks
    from forecasting.db import make_engine, read_frame
    from forecasting.profiling import PeakMemory

    first, last = _days(args)
    engine = make_engine(args.source_url)
    key = sync_key(b"bench-key-0123456789abcdef")
    cpu = time.process_time()
    if args.what == "raw":
        from forecasting.behaviour.source import _read_connectorx
        from forecasting.db import stream_frames
        from forecasting.extraction.window import time_segments

        rows = 0
        name = "extract/select_web_events"
        started = time.perf_counter()
        with PeakMemory() as peak:
            day = first
            while day <= last:  # as read_web_events reads, without typing or pseudonyms
                for seg in time_segments(day, day, args.shop_tz, args.source_tz):
                    if args.reader == "connectorx":
                        rows += len(_read_connectorx(engine, name, seg.params()))
                    else:
                        frames = stream_frames(engine, name, seg.params(), 200_000)
                        rows += sum(len(f) for f in frames)
                day += timedelta(days=1)
        seconds = time.perf_counter() - started
        out = {"what": "raw", "reader": args.reader, "rows": rows}
    elif args.what == "read":
        rows = 0
        started = time.perf_counter()
        with PeakMemory() as peak:
            for frame in read_web_events(
                engine, first, last, args.shop_tz, args.source_tz, key, reader=args.reader
            ):
                rows += len(frame)
        seconds = time.perf_counter() - started
        out = {"what": "read", "reader": args.reader, "rows": rows}
    else:
        catalogue = read_frame(
            engine,
            "extract/select_products",
            {
                "start_day": first.isoformat(),
                "horizon_end_day": (last + timedelta(days=1)).isoformat(),
                "excluded_category": "non-product",
            },
        )
        with tempfile.TemporaryDirectory() as tmp:
            from upath import UPath

            store = EventStore.for_source(UPath(tmp), args.source_url, args.shop_tz, args.source_tz)
            started = time.perf_counter()
            with PeakMemory() as peak:
                result = store.sync(
                    engine,
                    last,
                    days=args.days,
                    lookback_days=7,
                    shop_tz=args.shop_tz,
                    source_tz=args.source_tz,
                    key=key,
                    catalogue=pd.DataFrame(catalogue),
                    checks=DataChecks(),
                )
            seconds = time.perf_counter() - started
        rows = result.rows
        out = {"what": "sync", "reader": result.reader, "rows": rows, "result": result.to_dict()}
    out.update(
        # This process's CPU seconds (not MariaDB's): on a shared machine the wall clock
        # depends on the load, which is printed too.
        cpu_seconds=round(time.process_time() - cpu, 2),
        load_average=round(os.getloadavg()[0], 1),
        days=args.days,
        first_day=first.isoformat(),
        last_day=last.isoformat(),
        seconds=round(seconds, 2),
        rows_per_second=round(rows / seconds) if seconds else None,
        peak_rss_mb=round(peak.peak_mb),
    )
    print(json.dumps(out))


_READERS = {
    "raw": ("connectorx", "sqlalchemy"),
    "read": ("connectorx", "sqlalchemy"),
    "sync": ("auto",),
}


def bench(args: argparse.Namespace) -> None:
    """Every measurement, each in a fresh process; a summary at the end."""
    results = []
    runs = [(what, reader) for what in args.steps.split(",") for reader in _READERS[what]]
    for what, reader in runs:
        cmd = [
            sys.executable,
            __file__,
            "measure",
            "--source-url",
            args.source_url,
            "--days",
            str(args.days),
            "--what",
            what,
            "--reader",
            reader,
            "--shop-tz",
            args.shop_tz,
            "--source-tz",
            args.source_tz,
        ]
        cmd += ["--last-day", args.last_day]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        line = done.stdout.strip().splitlines()[-1]
        print(line, flush=True)
        results.append(json.loads(line))
    print("summary:")
    for r in results:
        print(
            f"  {r['what']:4s} {r['reader']:10s} {r['rows']:>11,} rows in {r['days']} days: "
            f"{r['seconds']:7.1f} s ({r['cpu_seconds']:.0f} s CPU, load {r['load_average']}), "
            f"{r['rows_per_second']:>10,} rows/s, peak RSS +{r['peak_rss_mb']} MiB"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["seed", "bench", "measure"])
    parser.add_argument("--source-url", default=DEFAULT_URL)
    parser.add_argument("--days", type=int, default=30, help="shop days measured (or seeded)")
    parser.add_argument("--last-day", default=None, help="last shop day measured")
    parser.add_argument("--events-per-day", type=int, default=100_000, help="seed only")
    parser.add_argument("--skus", type=int, default=300, help="seed only: catalogue size")
    parser.add_argument("--seed", type=int, default=5, help="seed only: random seed")
    parser.add_argument("--what", choices=list(_READERS), default="read", help="measure only")
    parser.add_argument(
        "--steps", default="raw,read,sync", help="bench only: measurements, comma-separated"
    )
    parser.add_argument("--reader", default="auto", help="measure only")
    parser.add_argument("--shop-tz", default="UTC")
    parser.add_argument("--source-tz", default="UTC")
    args = parser.parse_args(argv)
    if args.command in ("bench", "measure") and not args.last_day:
        parser.error("--last-day is needed (seed prints it)")
    {"seed": seed, "bench": bench, "measure": measure}[args.command](args)


if __name__ == "__main__":
    main()
