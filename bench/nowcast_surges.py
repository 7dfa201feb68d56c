"""Does the nowcast find the generator's surges, and how often does it cry wolf?

    .venv/bin/python bench/nowcast_surges.py [--skus 60] [--days-judged 60] [--hour 15]

The synthetic shop (:mod:`forecasting.sources.synthetic_events`) knows each SKU's view
multiplier ``m(t)`` on every day (surges of interest: half a sine wave up to 3x over 7
days, about 2 per SKU a year; day-to-day gamma noise of views with CV ~45 %). For each of
the last ``--days-judged`` days, a flat forecast (each series' mean daily units of the 28
days before) is published as the run of the day before, and the nowcast judges the day at
``--hour``:00 with its default settings (never tuned on this shop). Reported per half of
the judged days (the earlier half could tune thresholds; nothing was tuned), on views:

* **detection**: of the series-days whose views ran at ``m >= 2`` (and whose expected views
  by that hour reach the minimum count), the share with an ``above`` alert;
* **false alerts**: alerts per 1,000 series-days where ``m < 1.2``.

SQLite in a temporary folder; nothing else is touched.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=60)
    parser.add_argument("--locations", type=int, default=3)
    parser.add_argument("--days-judged", type=int, default=60)
    parser.add_argument("--hour", type=int, default=15)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    from dataclasses import replace

    from forecasting.behaviour.nowcast import NowcastSettings, nowcast, read_baseline
    from forecasting.db import make_engine
    from forecasting.lifecycle.publish import TableWrite, publish_in_one_transaction
    from forecasting.sources.shop import create_forecast_tables, load_shop
    from forecasting.sources.synthetic import _generate
    from forecasting.sources.synthetic_events import FunnelConfig, draw_web_events

    funnel = FunnelConfig()
    end = "2024-07-01"
    started = time.perf_counter()
    shop, activity = _generate(
        args.skus, args.locations, 240, end, args.seed, "US", 0, False, funnel
    )
    shop = replace(shop, web_events=draw_web_events(activity, funnel, args.seed + 8))
    folder = Path(tempfile.mkdtemp(prefix="nowcast-surges-"))
    engine = make_engine(f"sqlite:///{folder / 'shop.db'}")
    load_shop(engine, shop)
    create_forecast_tables(engine)
    print(
        f"shop: {args.skus} SKUs x {args.locations} locations, {len(shop.web_events):,} "
        f"events over {len(activity.dates)} days, loaded in {time.perf_counter() - started:.0f} s"
    )
    settings = NowcastSettings()
    sku_index = {s: i for i, s in enumerate(activity.skus)}
    day_index = {d.date(): i for i, d in enumerate(activity.dates)}
    days = [d.date() for d in activity.dates[-args.days_judged :]]
    rows = []
    for day in days:
        baseline = read_baseline(engine, day, shop_tz="UTC", source_tz="UTC")
        assert baseline is not None
        series = baseline.series
        mean = (series["units"] / baseline.days).to_numpy()
        forecast = pd.DataFrame(
            {
                "run_date": (day - timedelta(days=1)).isoformat(),
                "sku": series["sku"],
                "location_id": series["location_id"],
                "target_date": day.isoformat(),
                "forecast": mean,
                "p10": mean * 0.5,
                "p50": mean,
                "p90": mean * 1.5,
                "model_name": "flat",
                "model_version": "0",
                "cold_start": 0,
                "history_days": baseline.days,
            }
        )
        write = TableWrite(
            "publish/delete_demand_forecast",
            {"run_date": (day - timedelta(days=1)).isoformat()},
            "publish/insert_demand_forecast",
            forecast,
        )
        publish_in_one_transaction(engine, [write], "flat forecast")
        at = datetime(day.year, day.month, day.day, args.hour)
        result = nowcast(engine, engine, at, shop_tz="UTC", source_tz="UTC", write=False)
        alerts = result.alerts.loc[result.alerts["metric"] == "views"]
        flagged = set(zip(alerts["sku"], alerts["location_id"], alerts["direction"], strict=True))
        share = result.day_share
        for sku, loc in zip(series["sku"], series["location_id"], strict=True):
            if sku not in sku_index:
                continue
            m = float(activity.interest[sku_index[sku], day_index[day]])
            rate = series.loc[(series["sku"] == sku) & (series["location_id"] == loc)]
            views = float(rate["views"].iloc[0]) / baseline.days * share
            rows.append(
                {
                    "day": day,
                    "m": m,
                    "expected_views": views,
                    "above": (sku, loc, "above") in flagged,
                    "below": (sku, loc, "below") in flagged,
                }
            )
    frame = pd.DataFrame(rows)
    half = days[len(days) // 2]
    print(
        f"judged {len(days)} days at {args.hour}:00 with the defaults (|z| >= "
        f"{settings.threshold:g}, ratio >= {settings.min_ratio:g}, >= {settings.min_count:g} "
        f"events), {frame.shape[0]:,} series-days, {time.perf_counter() - started:.0f} s"
    )
    for label, part in (
        (
            f"days {days[0]} .. {half - timedelta(days=1)} (could tune; untuned)",
            frame["day"] < half,
        ),
        (f"days {half} .. {days[-1]} (reported)", frame["day"] >= half),
    ):
        p = frame.loc[part]
        surge = p.loc[(p["m"] >= 2) & (p["expected_views"] >= settings.min_count)]
        small = p.loc[(p["m"] >= 2) & (p["expected_views"] < settings.min_count)]
        calm = p.loc[p["m"] < 1.2]
        print(
            f"  {label}: detection {surge['above'].mean() if len(surge) else np.nan:.2f} of "
            f"{len(surge)} surge series-days (m >= 2; {small['above'].mean() if len(small) else np.nan:.2f} "
            f"of {len(small)} below the minimum count); false alerts "
            f"{1000 * (calm['above'] | calm['below']).mean():.1f} per 1,000 calm series-days "
            f"({int((calm['above'] | calm['below']).sum())} of {len(calm):,})"
        )


if __name__ == "__main__":
    main()
