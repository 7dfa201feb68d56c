"""``forecasting benchmark propensity|recommendations``: the customer models on UCI Online
Retail, side by side with their baselines, and the files the scorers read.

Windows (the file ends on day *L*):

* **validation** (what settings were chosen on): propensity as if run on *L - 28* (test
  cutoff *L - 56*); recommenders' settings and blend weights tuned on the purchases of
  *(L - 56, L - 28]*;
* **test** (never tuned on): run day *L*; propensity cutoff *L - 28* (label = bought in
  *(L - 28, L]*), recommendations scored on *(L - 28, L]*.

Then the model the pipeline would register is fitted on the whole file and writes the 28
days after *L*: ``customer_id,score`` (propensity) or ``customer_id,rank,sku``
(recommendations) for every customer with at least one purchase in the file. Public
data: ids are written as in the file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from forecasting.customers.config import PROPENSITY_MODELS, RECOMMENDERS
from forecasting.profiling import PeakMemory

__all__ = [
    "online_retail_lines",
    "online_retail_products",
    "propensity_benchmark",
    "recommendations_benchmark",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


def _online_retail(data_dir: str | Path) -> pd.DataFrame:
    """The Online Retail file's rows of identified customers' products."""
    from forecasting.sources.online_retail import (
        find_online_retail_file,
        is_non_product,
        read_online_retail,
    )

    raw = read_online_retail(find_online_retail_file(data_dir))
    raw = raw.dropna(subset=["CustomerID", "InvoiceNo", "StockCode", "InvoiceDate"])
    return raw.loc[~is_non_product(raw["StockCode"].astype(str))]


def online_retail_lines(data_dir: str | Path, raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """The Online Retail file as customer lines (raw public ids; no non-products).

    Args:
        data_dir: Where the file is.
        raw: The file's rows, when already read (:func:`_online_retail`).
    """
    raw = _online_retail(data_dir) if raw is None else raw
    return pd.DataFrame(
        {
            "customer": raw["CustomerID"].to_numpy(),
            "order": raw["InvoiceNo"].to_numpy(),
            "ds": raw["InvoiceDate"].dt.normalize().to_numpy(),
            "sku": raw["StockCode"].astype(str).to_numpy(),
            "category": "product",
            "quantity": raw["Quantity"].astype("int64").to_numpy(),
            "unit_price": raw["UnitPrice"].astype(float).to_numpy(),
            "cancelled": raw["InvoiceNo"].str.startswith("C").astype("int64").to_numpy(),
        }
    )


def online_retail_products(data_dir: str | Path, raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """The catalogue's text as the customers pipeline extracts it (``sku, name,
    description, category``): each stock code's most frequent description, as the
    importer writes the ``products`` table.

    Args:
        data_dir: Where the file is.
        raw: The file's rows, when already read (:func:`_online_retail`).
    """
    raw = _online_retail(data_dir) if raw is None else raw
    names = (
        raw.dropna(subset=["Description"])
        .assign(sku=raw["StockCode"].astype(str))
        .groupby("sku")["Description"]
        .agg(lambda s: s.mode().iat[0])
    )
    skus = pd.Index(sorted(raw["StockCode"].astype(str).unique()), name="sku")
    name = names.reindex(skus)
    return pd.DataFrame(
        {
            "sku": skus,
            "name": name.fillna("(no description)").to_numpy(),
            "description": name.to_numpy(),
            "category": "product",
        }
    )


def _measured(label: str, func: Callable[..., T], *args: Any) -> T:
    """``func(*args)``, logging its wall time and peak resident memory (the harness's meter)."""
    started = time.perf_counter()
    with PeakMemory() as memory:
        result = func(*args)
    seconds = time.perf_counter() - started
    log.info("%s: %.1f s, peak memory %.0f MiB", label, seconds, memory.peak_mb)
    return result


def propensity_benchmark(data_dir: str | Path, scores_csv: str | Path | None) -> pd.DataFrame:
    """Backtest every propensity candidate on the validation and test windows, print the
    tables, and (with ``scores_csv``) write the 28-day purchase probabilities after the
    file's last day. The written model is the one best on the *validation* window."""
    from forecasting.customers.propensity import CutoffPlan, backtest_propensity, fit_propensity

    lines = online_retail_lines(data_dir)
    last = lines["ds"].max().date()
    tables = []
    for window, day in (("validation", last - timedelta(days=28)), ("test", last)):
        plan = CutoffPlan.for_day(day)
        bt = _measured(f"propensity {window}", backtest_propensity, lines, plan, PROPENSITY_MODELS)
        table = bt.table().assign(window=window, cutoff=str(plan.test[0]))
        tables.append(table)
        print(
            f"\n{window} window (test cutoff {plan.test[0]}, {int(table['customers'].iloc[0])}"
            f" customers, base rate {table['base_rate'].iloc[0]:.3f}):"
        )
        cols = ["model", "roc_auc", "pr_auc", "log_loss", "brier", "top_decile_lift", "seconds"]
        print(table[cols].round(4).to_string(index=False), flush=True)
    result = pd.concat(tables, ignore_index=True)
    validation = result.loc[result["window"] == "validation"]
    chosen = str(validation.sort_values("roc_auc", ascending=False)["model"].iloc[0])
    print(f"\nchosen on the validation window: {chosen}")
    if scores_csv:
        plan = CutoffPlan.for_day(last).final()
        model = _measured("propensity final fit", fit_propensity, chosen, lines, plan)
        out = model.predict(lines, last)
        frame = pd.DataFrame({"customer_id": out.index, "score": out["probability"].to_numpy()})
        frame.to_csv(scores_csv, index=False)
        print(f"wrote {len(frame)} customers to {scores_csv}")
    return result


def recommendations_benchmark(data_dir: str | Path, recs_csv: str | Path | None) -> pd.DataFrame:
    """Backtest every recommender (tuned on the validation window, scored on the test
    window), print the table, and (with ``recs_csv``) write the top 10 per customer for the
    28 days after the file's last day.

    The content candidate's text model is fitted on the file's catalogue (each stock
    code's most frequent description); the blend's discovery slots are tuned on the
    validation window (:mod:`forecasting.customers.recommend_backtest`). New-item hit rate:
    the share of the evaluated customers (those who bought before and in the window) who
    bought a product new to them that was in their top 10; discovery hit rate: the same
    count over the evaluated customers who bought any product new to them.
    """
    from forecasting.customers.recommend_backtest import backtest_recommenders, tune_and_fit

    raw = _online_retail(data_dir)
    lines = online_retail_lines(data_dir, raw)
    products = online_retail_products(data_dir, raw)
    last = lines["ds"].max().date()
    bt = _measured(
        "recommendations backtest",
        backtest_recommenders,
        lines,
        last,
        42,
        RECOMMENDERS,
        products,
    )
    table = bt.table()
    test = table.iloc[0]
    print(
        f"\ntuned (validation) on ({last - timedelta(days=56)}, {last - timedelta(days=28)}]; "
        f"test ({last - timedelta(days=28)}, {last}] (not tuned on; "
        f"{int(test['customers'])} customers bought before and in it, "
        f"{int(test['customers_with_new_items'])} of them a product new to them):"
    )
    cols = [
        "model",
        "validation_ndcg_at_10",
        "validation_new_item_hit_rate",
        "hr_at_10",
        "precision_at_10",
        "recall_at_10",
        "ndcg_at_10",
        "new_item_hit_rate",
        "discovery_hit_rate",
        "seconds",
    ]
    print(table[cols].round(4).to_string(index=False), flush=True)
    if "blend" in bt.params:
        blend = bt.params["blend"]
        groups = blend.get("discovery_groups")
        if groups:
            print(
                f"\nblend: {groups['slots']} of 10 ranks reserved for products new to the "
                "customer, by third of customers by repeat strength (weakest first; edges "
                f"{[round(e, 3) for e in groups['edges']]})"
            )
        else:
            slots = blend.get("discovery_slots", 0)
            print(f"\nblend: {slots} of 10 ranks reserved for products new to the customer")
    chosen = str(table.sort_values("validation_ndcg_at_10", ascending=False)["model"].iloc[0])
    print(f"\nchosen on the validation window: {chosen} {bt.params[chosen]}")
    if recs_csv:
        model = _measured(
            "recommendations final fit",
            tune_and_fit,
            lines,
            last,
            chosen,
            bt.params[chosen],
            bt.text,
        )
        recs = model.recommend(lines, last)
        out = recs.rename(columns={"customer": "customer_id"})[["customer_id", "rank", "sku"]]
        out.to_csv(recs_csv, index=False)
        print(f"wrote {len(out)} rows ({out['customer_id'].nunique()} customers) to {recs_csv}")
    return table
