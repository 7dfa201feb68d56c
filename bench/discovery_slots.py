"""The blend's discovery slots on UCI Online Retail: NDCG@10, HR@10 and new-item hit rate
for each fixed number of slots and for the tuned slots per group of customers, on the
validation window (tuned on) and the test window.

``.venv/bin/python bench/discovery_slots.py --data-dir ../shared/data`` (about 2 min on 2
cores). The other candidates' settings are tuned as in ``forecasting benchmark
recommendations``; for each number of slots the discovery weights are tuned on the
validation window. New-item hit rate: share of the customers who bought before and in the
window who bought a product new to them that was in their top 10.
"""

from __future__ import annotations

import argparse
import logging
from datetime import timedelta

import pandas as pd
from forecasting_bench.customers import _online_retail, online_retail_lines, online_retail_products

from forecasting.customers import recommend_backtest as rb
from forecasting.customers.features import LABEL_DAYS


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--slots", default="0,1,2,3,4,5")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    raw = _online_retail(args.data_dir)
    lines = online_retail_lines(args.data_dir, raw)
    products = online_retail_products(args.data_dir, raw)
    last = lines["ds"].max().date()
    base = rb.backtest_recommenders(lines, last, 42, ("repeat", "als", "content"), products)
    val_cut = pd.Timestamp(last - timedelta(days=2 * LABEL_DAYS))
    test_cut = pd.Timestamp(last - timedelta(days=LABEL_DAYS))
    rows = []
    for name in ("repeat",):
        for window in ("validation", "test"):
            m = getattr(base, window)[name]
            rows.append({"model": name, "window": window, **m})
    for slots in (int(s) for s in args.slots.split(",")):
        params = rb._tune_blend(lines, val_cut, base.params, 42, base.text, slots)
        for window, cut in (("validation", val_cut), ("test", test_cut)):
            m = rb._evaluate("blend", params, lines, cut, base.text)
            rows.append({"model": f"blend, {slots} slots", "window": window, **m})
    params = rb._tune_blend(lines, val_cut, base.params, 42, base.text)
    groups = params.get("discovery_groups", {}).get("slots", [params["discovery_slots"]])
    for window, cut in (("validation", val_cut), ("test", test_cut)):
        m = rb._evaluate("blend", params, lines, cut, base.text)
        rows.append({"model": f"blend, tuned {groups} slots", "window": window, **m})
    table = pd.DataFrame(rows)
    cols = ["model", "window", "ndcg_at_10", "hr_at_10", "new_item_hit_rate", "discovery_hit_rate"]
    print(table[cols].round(4).to_string(index=False))


if __name__ == "__main__":
    main()
