"""Does what shoppers do on the website help the demand models? Backtests with and without
web behaviour on the synthetic shop, where the truth is known.

``python -m forecasting_bench.behaviour_ablation --funnel base --skus 200``

There is no real event log in ``../shared/data`` (Online Retail and Store Item Demand have
orders only): every number here comes from generated events
(:mod:`forecasting.sources.synthetic_events`), whose surges of interest reach the views
``lag_days`` before they reach the sales.

1. generates a shop (``--skus`` products at 3 locations over 730 days, no reviews) with its
   event log for the last ``event_days`` days under a named funnel (:data:`FUNNELS`),
   imports the orders into a SQLite shop and extracts them like the real datasets (the
   panel), and turns the events into daily behaviour day by day as the extraction does
   (pseudonyms irrelevant for the aggregate: ``clean_events`` then ``daily_behaviour`` with
   the catalogue's :class:`~forecasting.behaviour.search.QueryMatcher`), attached with
   :func:`~forecasting.features.behaviour.attach_behaviour`;
2. backtests the candidates (``--models``) without (``base``) and with (``behaviour``)
   the features, with the pipeline's own backtest
   (:func:`forecasting.training.train.run_candidates`);
3. prints and writes (``behaviour_ablation_<funnel>.csv``) RMSSE, WAPE, bias and the error
   on surge days (target days whose true interest multiplier, recomputed from the
   generator's seed, is at least half-way to the surge's peak: WAPE and bias there, and
   WAPE on surge days within the first 7 days of the horizon) on the first
   ``--tune-windows`` scored windows (``tune``: where the default is chosen, on the
   ``base`` funnel only) and on the rest (``report``: never tuned on). The ``shifted``
   funnel (another lag, more noise, more bots) checks the choice without retuning.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasting.config import PipelineConfig
from forecasting.evaluation.metrics import metrics_from_stats, series_window_stats
from forecasting.features.behaviour import attach_behaviour
from forecasting.features.panel import Panel
from forecasting.sources.synthetic_events import FunnelConfig, surge_interest
from forecasting.training.train import run_candidates
from forecasting_bench.datasets import ACTIVE_DAYS, HORIZON

__all__ = ["FUNNELS", "VARIANTS", "generated_panel", "main", "run_ablation"]

log = logging.getLogger(__name__)

#: Days the shop's history spans.
DAYS = 730
#: Days of events: the backtest's windows (7 of 28 days), 28 days of warm-up before the
#: oldest, and about 180 more so that even the oldest window's model trains on rows that
#: have behaviour.
EVENT_DAYS = 7 * HORIZON + 28 + 180
#: The funnels: ``base`` is the generator's default (views lead sales by 3 days); ``shifted``
#: is another shop (a 6-day lead, twice the day-to-day noise of views, three times the
#: bots) on which the choice made on ``base`` is checked without retuning.
FUNNELS: dict[str, FunnelConfig] = {
    "base": FunnelConfig(event_days=EVENT_DAYS),
    "shifted": FunnelConfig(event_days=EVENT_DAYS, lag_days=6, noise=2.5, bot_share=0.15),
}
#: Variants: the :class:`~forecasting.features.FeatureSpec` overrides of each.
VARIANTS: dict[str, dict[str, Any]] = {"base": {}, "behaviour": {"behaviour": True}}
#: A target day is a surge day when its interest is at least this share of the way from 1
#: to the surge's peak.
SURGE_SHARE = 0.5
_METRICS = ("rmsse", "wape", "bias")
_SEED = 7
_BATCH_DAYS = 28


def generated_panel(
    work_dir: Path, n_skus: int, funnel: FunnelConfig, seed: int = _SEED
) -> tuple[Panel, np.ndarray]:
    """The synthetic shop's panel with its web behaviour attached, and its surge days.

    Args:
        work_dir: Where the SQLite shop and the extract are written.
        n_skus: Products (at 3 locations).
        funnel: The website's funnel.
        seed: The generator's seed.

    Returns:
        The panel and a boolean ``(n_series, T)`` mask of surge days (see module docstring).
    """
    from forecasting.behaviour.events import clean_events, daily_behaviour
    from forecasting.behaviour.search import QueryMatcher
    from forecasting.db import make_engine
    from forecasting.extraction import ExtractWindow, extract_all
    from forecasting.sources import load_shop
    from forecasting.sources.synthetic import generate_shop_streaming
    from forecasting.storage import Storage

    start = time.perf_counter()
    shop, days = generate_shop_streaming(
        n_skus=n_skus, n_locations=3, days=DAYS, seed=seed, reviews=False, funnel=funnel
    )
    matcher = QueryMatcher(shop.products)
    frames, events, dropped, batch = [], 0, 0, []

    def aggregate(batch: list[pd.DataFrame]) -> None:
        nonlocal events, dropped
        clean, cleaning = clean_events(
            pd.concat(batch, ignore_index=True).rename(
                columns={"session_id": "session", "customer_id": "customer"}
            )
        )
        events += cleaning.rows
        dropped += cleaning.duplicate_events + cleaning.bot_events
        frames.append(daily_behaviour(clean, matcher))

    # A few weeks per call: the aggregates are per day, and pandas' cost per call dominates
    # a small shop's day.
    for day in days:
        if len(day):
            batch.append(day)
        if len(batch) == _BATCH_DAYS:
            aggregate(batch)
            batch = []
    if batch:
        aggregate(batch)
    daily = pd.concat(frames, ignore_index=True)
    log.info(
        "%d events (%d duplicates and bot events dropped) -> %d behaviour rows in %.0fs",
        events,
        dropped,
        len(daily),
        time.perf_counter() - start,
    )
    engine = make_engine(f"sqlite:///{work_dir / 'shop.db'}")
    load_shop(engine, shop, loaded_by="benchmark")
    last = pd.Timestamp(shop.orders["ordered_at"].max()).date()
    window = ExtractWindow.for_logical_date(last, DAYS, HORIZON)
    storage = Storage.from_uri((work_dir / "storage").as_uri())
    extract = extract_all(engine, window, storage.root, full_refresh=True)
    panel = Panel.from_long(extract.history, extract.future, extract.events)
    first = pd.Timestamp(last) - pd.Timedelta(days=(funnel.event_days or DAYS) - 1)
    panel = attach_behaviour(panel, daily, first_day=first)
    # The sales' surge multiplier per SKU and day (the generator's own stream: seed + 9).
    interest = surge_interest(n_skus, DAYS, funnel, seed + 9)[:, :DAYS]
    gen_dates = pd.date_range(pd.Timestamp(last) - pd.Timedelta(days=DAYS - 1), last)
    sku_row = pd.Index([f"SKU-{i:05d}" for i in range(1, n_skus + 1)]).get_indexer(
        panel.ids["sku"].astype(str)
    )
    day_col = gen_dates.get_indexer(panel.dates)
    surge = np.zeros(panel.y.shape, dtype=bool)
    threshold = 1.0 + SURGE_SHARE * (funnel.surge_size - 1.0)
    rows, cols = sku_row >= 0, day_col >= 0
    surge[np.ix_(rows, cols)] = interest[np.ix_(sku_row[rows], day_col[cols])] >= threshold
    log.info(
        "panel: %d series, %d days; %.1f%% of series-days are surge days; built in %.0fs",
        panel.n_series,
        len(panel.dates),
        100 * surge[:, : panel.n_history].mean(),
        time.perf_counter() - start,
    )
    return panel, surge


def _surge_errors(scored: pd.DataFrame, panel: Panel, surge: np.ndarray) -> dict[str, float]:
    """WAPE and bias of the rows on surge days, and WAPE on those within 7 days."""
    row = pd.Index(panel.ids["unique_id"]).get_indexer(scored["unique_id"])
    col = panel.dates.get_indexer(pd.to_datetime(scored["ds"]))
    on = surge[row, col] & scored["y"].notna().to_numpy()
    near = on & ((pd.to_datetime(scored["ds"]) - pd.to_datetime(scored["cutoff"])).dt.days <= 7)
    out: dict[str, float] = {}
    for name, mask in (("surge", on), ("surge_h7", near.to_numpy())):
        y = scored["y"].to_numpy()[mask]
        f = scored["forecast"].to_numpy()[mask]
        total = y.sum()
        out[f"{name}_wape"] = float(np.abs(f - y).sum() / total) if total > 0 else np.nan
        if name == "surge":
            out["surge_bias"] = float((f.sum() - total) / total) if total > 0 else np.nan
            out["surge_rows"] = int(mask.sum())
    return out


def run_ablation(
    funnel_name: str,
    *,
    n_skus: int = 200,
    models: tuple[str, ...] = ("hgb", "linear"),
    windows: int = 6,
    tune_windows: int = 3,
    max_rows: int | None = 300_000,
    output_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Backtest every variant on the funnel's shop and return the metrics table.

    Returns:
        One row per variant, model and split (``tune``, ``report``, ``all``) with RMSSE,
        WAPE, bias, the surge errors and the candidate's seconds.
    """
    from forecasting.config import Settings

    if funnel_name not in FUNNELS:
        raise ValueError(f"unknown funnel {funnel_name!r}; choose from {sorted(FUNNELS)}")
    funnel = FUNNELS[funnel_name]
    work = (
        Path(output_dir)
        if output_dir
        else Settings.from_env().data_dir / "bench" / f"behaviour-{funnel_name}"
    )
    work.mkdir(parents=True, exist_ok=True)
    panel, surge = generated_panel(work, n_skus, funnel)
    rows = []
    for variant, features in VARIANTS.items():
        config = PipelineConfig(
            horizon=HORIZON,
            n_windows=windows,
            active_days=ACTIVE_DAYS,
            models=models,
            model_params={
                m: {"features": features, **({"max_rows": max_rows} if max_rows else {})}
                for m in models
            },
        )
        results = run_candidates(panel, config)
        for label, result in results.items():
            scored = result.scored
            chosen = sorted(scored["window"].unique())
            splits = {"tune": chosen[:tune_windows], "report": chosen[tune_windows:], "all": chosen}
            for split, part_windows in splits.items():
                if not part_windows:
                    continue
                part = scored.loc[scored["window"].isin(part_windows)]
                metrics = metrics_from_stats(series_window_stats(part))
                rows.append(
                    {
                        "funnel": funnel_name,
                        "variant": variant,
                        "model": label,
                        "split": split,
                        **{m: metrics[m] for m in _METRICS},
                        **_surge_errors(part, panel, surge),
                        "seconds": sum(result.fit_seconds),
                    }
                )
        log.info("variant %s done", variant)
        pd.DataFrame(rows).to_csv(work / f"behaviour_ablation_{funnel_name}.csv", index=False)
    table = pd.DataFrame(rows)
    text = (
        f"{funnel_name} funnel ({funnel.to_dict()}): {panel.n_series} series, "
        f"{windows} scored windows ({tune_windows} tuning, {windows - tune_windows} reported)\n"
        + _format(table)
    )
    (work / f"behaviour_ablation_{funnel_name}.txt").write_text(text + "\n")
    print(text, flush=True)
    return table


_COLUMNS = ("rmsse", "wape", "bias", "surge_wape", "surge_bias", "surge_h7_wape")


def _format(table: pd.DataFrame) -> str:
    header = f"{'variant':<11}{'model':<16}{'split':<8}" + "".join(f"{c:>14}" for c in _COLUMNS)
    lines = [header + f"{'surge_rows':>11}{'seconds':>9}"]
    for _, row in table.sort_values(["split", "model", "variant"]).iterrows():
        cells = "".join(f"{row[c]:>14.4f}" for c in _COLUMNS)
        lines.append(
            f"{row['variant']:<11}{row['model']:<16}{row['split']:<8}{cells}"
            f"{row['surge_rows']:>11d}{row['seconds']:>9.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m forecasting_bench.behaviour_ablation --funnel base``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--funnel", choices=sorted(FUNNELS), default="base")
    parser.add_argument("--skus", type=int, default=200, help="products (3 locations each)")
    parser.add_argument("--models", default="hgb,linear")
    parser.add_argument("--windows", type=int, default=6)
    parser.add_argument("--tune-windows", type=int, default=3)
    parser.add_argument("--max-rows", type=int, default=300_000)
    parser.add_argument("--output-dir")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_ablation(
        args.funnel,
        n_skus=args.skus,
        models=tuple(m for m in args.models.split(",") if m),
        windows=args.windows,
        tune_windows=args.tune_windows,
        max_rows=args.max_rows,
        output_dir=args.output_dir,
    )


if __name__ == "__main__":
    main()
