"""Web behaviour in the customer models, on the synthetic shop (the only shop with an event
log: no real one is in ``../shared/data``).

The shop (``generate_shop(events=True, funnel=FunnelConfig(event_days=...))``) is loaded
into SQLite and read back by the customer pipeline's own readers (``read_customer_lines``,
``read_customer_events``: pseudonymised, opted-out customers left out in SQL). Then, with
and without the events:

* **propensity** (``backtest_propensity``): every candidate on two windows, the run day
  ``L - 28`` (**tuning**: where settings would be chosen) and ``L`` (**reported**, test
  cutoff ``L - 28``), ``L`` the shop's last day. Only ``hgb`` and ``mlp`` get the browsing
  features; logistic RFM and BG/NBD are the baselines either way.
* **recommendations** (``backtest_recommenders`` for run day ``L``): every candidate tuned
  on the validation window (cutoff ``L - 56``, **tuning**) and scored on the test window
  (cutoff ``L - 28``, **reported**); with events the session and sequence candidates enter
  and the blend may weigh them.

Run (a few minutes on 2 cores)::

    .venv/bin/python bench/behaviour_customers.py
    .venv/bin/python bench/behaviour_customers.py --seed 11 --cart-add-rate 0.05  # another funnel
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from forecasting.customers.config import PROPENSITY_MODELS, RECOMMENDERS
from forecasting.customers.extract import read_customer_events, read_customer_lines
from forecasting.customers.propensity import CutoffPlan, backtest_propensity
from forecasting.customers.recommend_backtest import backtest_recommenders
from forecasting.db import make_engine
from forecasting.pipelines.customers.steps.extract import read_customer_products
from forecasting.sources import load_shop
from forecasting.sources.synthetic import generate_shop
from forecasting.sources.synthetic_events import FunnelConfig

KEY = b"behaviour bench key, not a secret"
PROPENSITY_COLUMNS = ["model", "roc_auc", "pr_auc", "log_loss", "top_decile_lift"]
RECOMMENDER_COLUMNS = [
    "model",
    "validation_ndcg_at_10",
    "ndcg_at_10",
    "hr_at_10",
    "new_item_hit_rate",
    "seconds",
]


def read_shop(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, date]:
    """Generate, load into SQLite and extract the shop's customer lines, events and catalogue."""
    funnel = FunnelConfig(event_days=args.event_days, cart_add_rate=args.cart_add_rate)
    started = time.perf_counter()
    shop = generate_shop(seed=args.seed, events=True, funnel=funnel)
    last = pd.Timestamp(shop.orders["ordered_at"].max()).date()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'shop.db'}")
        load_shop(engine, shop)
        first = last - timedelta(days=729)
        lines = read_customer_lines(engine, first, last, KEY, "UTC", "UTC").lines
        events = read_customer_events(
            engine, last - timedelta(days=args.event_days - 1), last, KEY, "UTC", "UTC"
        )
        products = read_customer_products(engine)
        engine.dispose()
    print(
        f"shop seed {args.seed}: {len(lines):,} customer lines of "
        f"{lines['customer'].nunique():,} customers, {events.counts['rows']:,} identified item "
        f"events -> {len(events.events):,} rows; last day {last} "
        f"({time.perf_counter() - started:.0f} s)"
    )
    return lines, events.events, products, last


def propensity(lines: pd.DataFrame, events: pd.DataFrame, last: date, seed: int) -> None:
    """Propensity with and without events on the tuning and reported windows."""
    rows = []
    for window, run_day in (("tuning", last - timedelta(days=28)), ("reported", last)):
        plan = CutoffPlan.for_day(run_day)
        for label, ev in (("without events", None), ("with events", events)):
            table = backtest_propensity(lines, plan, PROPENSITY_MODELS, seed, ev).table()
            table.insert(0, "events", label)
            table.insert(0, "window", f"{window} (test cutoff {plan.test[0]})")
            rows.append(table)
    out = pd.concat(rows, ignore_index=True)
    print("\nPropensity (ROC AUC; bought in the 28 days after the test cutoff):")
    print(out[["window", "events", *PROPENSITY_COLUMNS]].round(4).to_string(index=False))
    for window, part in out.groupby("window", sort=False):
        auc = part.set_index(["events", "model"])["roc_auc"]
        best = max(auc[("with events", "hgb")], auc[("with events", "mlp")])
        base = max(auc[("with events", "logistic_rfm")], auc[("with events", "bgnbd")])
        print(
            f"{window}: best of hgb/mlp with events {best:.4f}, without "
            f"{max(auc[('without events', 'hgb')], auc[('without events', 'mlp')]):.4f}; "
            f"best baseline {base:.4f}: {100 * (best - base):+.2f} points"
        )


def recommendations(
    lines: pd.DataFrame, events: pd.DataFrame, products: pd.DataFrame, last: date, seed: int
) -> None:
    """Recommenders with and without events (tuned on validation, reported on test)."""
    for label, ev in (("without events", None), ("with events", events)):
        result = backtest_recommenders(
            lines, last, seed, RECOMMENDERS, products, None, 0.20, events=ev
        )
        table = result.table()
        print(f"\nRecommendations {label} (validation cutoff {last - timedelta(days=56)}, test")
        print(f"cutoff {last - timedelta(days=28)}; NDCG@10, HR@10, new-item on test):")
        print(table[RECOMMENDER_COLUMNS].round(4).to_string(index=False))
        blend = result.params.get("blend", {})
        print(
            f"blend weights {blend.get('weights')}, discovery slots "
            f"{blend.get('discovery_groups') or blend.get('discovery_slots')} "
            f"{blend.get('discovery_weights')}"
        )
        for name in ("session", "sequence"):
            if name in result.params:
                print(f"{name} settings: {result.params[name]}")


def main() -> None:
    """Parse the arguments, run both studies, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7, help="the shop's seed")
    parser.add_argument(
        "--event-days", type=int, default=280, help="days of events (the plan needs 252)"
    )
    parser.add_argument("--cart-add-rate", type=float, default=0.10, help="cart adds per view")
    parser.add_argument("--only", choices=("propensity", "recommendations"), default=None)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    lines, events, products, last = read_shop(args)
    if args.only != "recommendations":
        propensity(lines, events, last, 42)
    if args.only != "propensity":
        recommendations(lines, events, products, last, 42)


if __name__ == "__main__":
    main()
