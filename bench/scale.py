"""Scale benchmark: the whole DAG on a catalogue of 30,000 series in MariaDB.

    python bench/scale.py seed  [--source-url URL] [--skus 3000] [--locations 10] [--no-events]
    python bench/scale.py bench [--source-url URL]

``seed`` bulk-loads a synthetic shop (3 years of orders up to 2024-06-30, plus the orders
of 2024-07-01 for the next-day run, and the web event log of the last 90 days: about 30
views per order line, some 60 million rows; ``--no-events`` skips it) and prints how long
that took. ``bench`` runs, with the
DAG's default params, ``airflow dags test demand_forecast 2024-07-01`` (the run for
2024-06-30: full extraction, backtest and refit) and then ``... 2024-07-02`` (the run for
2024-07-01: incremental extraction, the champion reused), prints every task's wall time and
peak memory, the source read rate against ``mysql --batch`` dumping the same query, and
one summary line per run. Both use ``FORECASTING_SOURCE_URL`` when set, else
``mysql://root@127.0.0.1:3306/forecasting_scale`` (``make scale-seed`` / ``make scale-bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_URL = "mysql://root@127.0.0.1:3306/forecasting_scale"
TASK_LINE = re.compile(
    r"forecasting task (\w+)\[(-?\d+)\]: wall ([\d.]+) s, peak RSS (\d+) MB \((\w+)\)"
)
EXTRACT_LINE = re.compile(r"extract shard=\d+-of-\d+: (\d+) rows, (\d+) series")
SYNC_LINE = re.compile(r"store synced: .* \((\d+) rows in ([\d.]+)s")


def seed(args: argparse.Namespace) -> None:
    import sqlalchemy as sa

    from forecasting.db import execute_script, make_engine
    from forecasting.sources.scale import bulk_load, write_scale_shop

    url = sa.make_url(args.source_url)
    with make_engine(url._replace(database=None)).begin() as conn:
        execute_script(conn, "schema/create_database", database=str(url.database))
    folder = REPO / ".data" / "scale" / f"tsv-{args.skus}x{args.locations}"
    started = time.perf_counter()
    counts = write_scale_shop(folder, args.skus, args.locations, events=args.events)
    generated = time.perf_counter() - started
    loaded = bulk_load(make_engine(url), folder)
    total = time.perf_counter() - started
    print(json.dumps({"generated": counts, "loaded": loaded}, indent=2))
    rows = sum(loaded.values())
    print(
        f"seed: {args.skus * args.locations} series, {loaded['order_lines']:,} order lines, "
        f"{loaded['web_events']:,} web events: generated in {generated:.0f} s "
        f"({rows / max(generated, 1e-9):,.0f} rows/s), bulk-loaded in {total - generated:.0f} s "
        f"({rows / max(total - generated, 1e-9):,.0f} rows/s incl. indexes)"
    )
    shutil.rmtree(folder)


def _env(work: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "FORECASTING_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(work / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "FORECASTING_DATA_DIR": str(work / "data"),
            "FORECASTING_SOURCE_URL": url,
            "FORECASTING_WAREHOUSE_URL": url,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "GX_ANALYTICS_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_ENABLE_ONEDNN_OPTS": "0",
        }
    )
    return env


def _run_dag(logical_date: str, env: dict[str, str], log: Path) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        [str(BIN / "airflow"), "dags", "test", "demand_forecast", logical_date],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    wall = time.perf_counter() - started
    text = proc.stdout + proc.stderr
    log.write_text(text)
    state = re.findall(r"DagRun Finished:.*state=(\w+)", text)
    if proc.returncode or not state or state[-1] != "success":
        print(text[-5000:])
        raise SystemExit(f"the DAG run for {logical_date} failed (log: {log})")
    return wall, text


def _report(label: str, wall: float, text: str) -> None:
    tasks: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for name, _, seconds, rss, _ in TASK_LINE.findall(text):
        tasks[name].append((float(seconds), int(rss)))
    print(f"\n{label}: per task (mapped tasks: instances, total wall, longest, peak RSS)")
    print(f"  {'task':<16}{'n':>4}{'wall s':>10}{'max s':>9}{'peak RSS MB':>14}")
    for name, runs in tasks.items():
        print(
            f"  {name:<16}{len(runs):>4}{sum(s for s, _ in runs):>10.1f}"
            f"{max(s for s, _ in runs):>9.1f}{max(r for _, r in runs):>14,}"
        )
    rows = sum(int(r) for r, _ in EXTRACT_LINE.findall(text))
    series = sum(int(s) for _, s in EXTRACT_LINE.findall(text))
    peak = max((r for runs in tasks.values() for _, r in runs), default=0)
    sync = SYNC_LINE.findall(text)
    if sync:
        read, seconds = int(sync[-1][0]), float(sync[-1][1])
        print(
            f"  source rows read: {read:,} in {seconds:.1f} s ({read / max(seconds, 1e-9):,.0f} rows/s)"
        )
    print(
        f"scale: {series:,} series, {rows:,} rows extracted, {wall:.0f} s end to end, "
        f"peak RSS {peak:,} MB"
    )


def _mysql_batch(url: str, first: date, last: date) -> None:
    """The extraction query for the whole window, dumped by the ``mysql`` client."""
    import sqlalchemy as sa

    from forecasting.db import render_sql
    from forecasting.extraction.source import NON_PRODUCT_CATEGORY

    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        print("  (no mysql client on PATH: skipping the mysql --batch comparison)")
        return
    u = sa.make_url(url)
    values = {
        "ts_start": f"'{first.isoformat()} 00:00:00'",
        "ts_end": f"'{last.isoformat()} 00:00:00'",
        "offset_seconds": "0",
        "excluded_category": f"'{NON_PRODUCT_CATEGORY}'",
    }
    sql = render_sql("extract/select_order_lines", "mysql")
    for name, literal in values.items():  # a benchmark of our own fixed values: no user input
        sql = sql.replace(f":{name}", literal)
    cmd = [client, "--batch", "--skip-column-names", "-h", u.host or "127.0.0.1"]
    cmd += ["-P", str(u.port or 3306), "-u", u.username or "root", u.database or ""]
    env = dict(os.environ, MYSQL_PWD=u.password or "")
    started = time.perf_counter()
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True, env=env, check=True)
    seconds = time.perf_counter() - started
    rows = out.stdout.count("\n")
    print(
        f"  mysql --batch, same query ({first}..{last}): {rows:,} rows in {seconds:.1f} s "
        f"({rows / max(seconds, 1e-9):,.0f} rows/s): the client's practical limit"
    )


def bench(args: argparse.Namespace) -> None:
    work = REPO / ".data" / "scale" / "run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = _env(work, args.source_url)
    subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True
    )
    wall, text = _run_dag("2024-07-01", env, work / "day1.log")
    _report("2024-06-30 (full extraction, backtest and refit)", wall, text)
    _mysql_batch(args.source_url, date(2021, 7, 1), date(2024, 7, 1))
    wall, text = _run_dag("2024-07-02", env, work / "day2.log")
    _report("2024-07-01 (incremental extraction, champion reused)", wall, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    url = os.environ.get("FORECASTING_SOURCE_URL") or DEFAULT_URL
    p = sub.add_parser("seed", help="bulk-load the synthetic catalogue into MySQL")
    p.add_argument("--source-url", default=url)
    p.add_argument("--skus", type=int, default=3000)
    p.add_argument("--locations", type=int, default=10)
    p.add_argument(
        "--no-events",
        dest="events",
        action="store_false",
        help="no web_events (default: the last 90 days, about 30 views per order line)",
    )
    p.set_defaults(func=seed)
    p = sub.add_parser("bench", help="run the DAG for two days and report time and memory")
    p.add_argument("--source-url", default=url)
    p.set_defaults(func=bench)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
