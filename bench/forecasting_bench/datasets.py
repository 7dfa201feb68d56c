"""The real datasets the benchmark runs on, and how each enters it: imported into a SQLite
shop database and extracted with the pipeline's own code (the same code the DAG runs)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecasting.db import make_engine
from forecasting.extraction import ExtractWindow, extract_all
from forecasting.features.panel import Panel
from forecasting.sources import ShopData, load_shop

__all__ = [
    "ACTIVE_DAYS",
    "DATASETS",
    "HORIZON",
    "Dataset",
    "dataset_keys",
    "load_dataset",
    "load_dataset_with_catalogue",
]

log = logging.getLogger(__name__)

HORIZON = 28
ACTIVE_DAYS = 90


@dataclass(frozen=True)
class Dataset:
    """How one real dataset enters the benchmark."""

    name: str
    peers: tuple[str, ...]
    future_columns: tuple[str, ...]


DATASETS = {
    "store-item-demand": Dataset(
        "store-item-demand",
        ("sf_seasonal_naive", "auto_ets", "mlf_lgbm"),
        ("store", "item", "date", "forecast", "p10", "p50", "p90"),
    ),
    "online-retail": Dataset(
        "online-retail",
        ("sf_seasonal_naive", "auto_ets", "croston", "imapa", "adida", "mlf_lgbm"),
        ("sku", "date", "forecast", "p10", "p50", "p90"),
    ),
}


def _shop(dataset: str, data_dir: str | Path) -> ShopData:
    if dataset == "store-item-demand":
        from forecasting.sources.store_item import (
            find_store_item_file,
            read_store_item_demand,
            store_item_shop,
        )

        return store_item_shop(read_store_item_demand(find_store_item_file(data_dir)))
    if dataset == "online-retail":
        from forecasting.sources.online_retail import (
            find_online_retail_file,
            online_retail_shop,
            read_online_retail,
        )

        return online_retail_shop(read_online_retail(find_online_retail_file(data_dir)))
    raise ValueError(f"unknown dataset {dataset!r}; choose from {sorted(DATASETS)}")


def load_dataset(
    dataset: str, data_dir: str | Path, work_dir: Path, max_series: int | None = None
) -> Panel:
    """Import a dataset into a SQLite shop and extract it with the pipeline's code.

    Returns:
        The panel of the whole file, with 28 future days of covariates.
    """
    return load_dataset_with_catalogue(dataset, data_dir, work_dir, max_series)[0]


def load_dataset_with_catalogue(
    dataset: str, data_dir: str | Path, work_dir: Path, max_series: int | None = None
) -> tuple[Panel, pd.DataFrame]:
    """:func:`load_dataset`, plus the shop's catalogue (what the launch model reads).

    Returns:
        The panel and the imported ``products`` table (``sku, name, description,
        category, list_price, launched_on``).
    """
    from forecasting.storage import Storage

    shop = _shop(dataset, data_dir)
    last_day = pd.Timestamp(shop.orders["ordered_at"].max()).date()
    first_day = pd.Timestamp(shop.orders["ordered_at"].min()).date()
    engine = make_engine(f"sqlite:///{work_dir / 'shop.db'}")
    start = time.perf_counter()
    load_shop(engine, shop, loaded_by="benchmark")
    window = ExtractWindow.for_logical_date(last_day, (last_day - first_day).days + 1, HORIZON)
    storage = Storage.from_uri((work_dir / "storage").as_uri())
    extract = extract_all(engine, window, storage.root, full_refresh=True)
    demand, future, events, cleaning = (
        extract.history,
        extract.future,
        extract.events,
        extract.cleaning,
    )
    if max_series:
        keep = sorted(demand["unique_id"].unique())[:max_series]
        demand = demand.loc[demand["unique_id"].isin(keep)]
        future = future.loc[future["unique_id"].isin(keep)]
    panel = Panel.from_long(demand, future, events)
    log.info(
        "%s: %d series x %d days loaded and extracted in %.1fs (%d outlier days excluded)",
        dataset,
        panel.n_series,
        panel.n_history,
        time.perf_counter() - start,
        cleaning["outlier_days"],
    )
    return panel, shop.products.copy()


def dataset_keys(frame: pd.DataFrame, dataset: str) -> tuple[pd.DataFrame, list[str]]:
    """The dataset's own series keys (``store,item`` or ``sku``) for frame rows with
    ``sku`` and ``location_id``."""
    if dataset == "store-item-demand":
        keys = pd.DataFrame(
            {
                "store": frame["location_id"].str.removeprefix("store-").astype(int).to_numpy(),
                "item": frame["sku"].str.removeprefix("item-").astype(int).to_numpy(),
            }
        )
        return keys, ["store", "item"]
    return pd.DataFrame({"sku": frame["sku"].to_numpy()}), ["sku"]
