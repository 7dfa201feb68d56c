"""Assembling a shard's extract from stored demand and the run's catalogue.

The frames that :mod:`forecasting.extraction.extract` writes: the zero-filled history with
days excluded as outliers or stock-outs, the horizon's future covariates (planned
promotions, list prices), calendar events and each SKU's list price against what customers
paid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

from forecasting.extraction.source import Catalog, empty_reviews
from forecasting.extraction.window import ExtractWindow
from forecasting.schema import EXTRACT_COLUMNS, FUTURE_COLUMNS, SEPARATOR, SERIES_KEYS
from forecasting.sharding import Shard, shard_of_many

__all__ = [
    "CATALOGUE_COLUMNS",
    "PRICE_DAYS",
    "Extract",
    "assemble_extract",
    "empty_catalogue",
    "flag_outliers",
    "shard_products",
]

#: Days of order lines whose average unit price is compared with the list price.
PRICE_DAYS = 91


@dataclass(frozen=True)
class Extract:
    """One shard's extract for one run (see :mod:`forecasting.extraction.extract`).

    Attributes:
        history: :data:`EXTRACT_COLUMNS`, zero-filled from each series' start.
        future: :data:`FUTURE_COLUMNS` for the horizon.
        events: Calendar events (``ds, name, kind``).
        prices: Per SKU of the shard, ``list_price``, the ``avg_unit_price`` customers paid
            over the last :data:`PRICE_DAYS` days (units-weighted), ``line_count`` and their
            ``price_ratio`` (1 where nothing sold).
        cleaning: Counts of the cleaning rules applied.
        catalogue: Every sellable product of the catalogue (all shards), with its text:
            ``sku, name, description, category, list_price, launched_on``. The text model
            is fitted on all of it (text neighbours cross shards), and products launching
            in the horizon are forecast from it (:mod:`forecasting.text`).
        reviews: The reviews of the shard's SKUs (and of unknown SKUs hashed to this
            shard) written in the window, from the optional ``product_reviews`` table:
            :data:`~forecasting.extraction.source.REVIEW_COLUMNS`, ``created_at`` in the
            shop's local time, ``customer`` a pseudonym or ``None``. Empty without the
            table.
        behaviour: The shard's daily web behaviour from the event store
            (:data:`~forecasting.behaviour.events.DAILY_COLUMNS`), ``None`` when the source
            has no web events (the extract is then what it was before events existed).
    """

    history: pd.DataFrame
    future: pd.DataFrame
    events: pd.DataFrame
    prices: pd.DataFrame
    cleaning: dict[str, float]
    catalogue: pd.DataFrame = field(default_factory=lambda: empty_catalogue())
    reviews: pd.DataFrame = field(default_factory=lambda: empty_reviews())
    behaviour: pd.DataFrame | None = None


#: Columns of :attr:`Extract.catalogue`, in order.
CATALOGUE_COLUMNS = ("sku", "name", "description", "category", "list_price", "launched_on")


def empty_catalogue() -> pd.DataFrame:
    """A catalogue frame without rows (:data:`CATALOGUE_COLUMNS`)."""
    return pd.DataFrame(
        {
            "sku": pd.Series(dtype=object),
            "name": pd.Series(dtype=object),
            "description": pd.Series(dtype=object),
            "category": pd.Series(dtype=object),
            "list_price": pd.Series(dtype=float),
            "launched_on": pd.Series(dtype="datetime64[ns]"),
        }
    )


def shard_products(products: pd.DataFrame, shard: Shard) -> pd.DataFrame:
    """The catalogue rows of one shard."""
    return products.loc[shard_of_many(products["sku"].to_numpy(), shard.count) == shard.index]


def _promo_discount(keys: pd.DataFrame, promotions: pd.DataFrame) -> np.ndarray:
    """Largest promotion discount (fraction) for each ``sku, location_id, ds`` row.

    A promotion without a location applies everywhere. Rows and promotion days are matched
    on integer codes (SKU, location, day) rather than merged on strings: a shard's history
    has millions of rows.
    """
    result = np.zeros(len(keys))
    if promotions.empty or keys.empty:
        return result
    promos = promotions.loc[promotions["sku"].isin(keys["sku"].unique())]
    if promos.empty:
        return result
    starts = pd.to_datetime(promos["starts_on"]).to_numpy("datetime64[D]")
    ends = pd.to_datetime(promos["ends_on"]).to_numpy("datetime64[D]")
    lengths = np.where(np.isnat(starts) | np.isnat(ends), 0, (ends - starts).astype(np.int64) + 1)
    lengths = np.maximum(lengths, 0)
    which = np.repeat(np.arange(len(promos)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    promo_day = starts[which] + offsets
    discount = promos["discount_pct"].to_numpy(float)[which] / 100.0
    promo_location = promos["location_id"].to_numpy(object)[which]
    everywhere = pd.isna(promo_location)

    key_day = keys["ds"].to_numpy("datetime64[D]")
    first = min(key_day.min(), promo_day.min()) if len(promo_day) else key_day.min()
    day_codes = np.concatenate([key_day - first, promo_day - first]).astype(np.int64)
    n_days = int(day_codes.max()) + 1
    sku_codes, _ = pd.factorize(
        np.concatenate([keys["sku"].to_numpy(object), promos["sku"].to_numpy(object)[which]])
    )
    locations = np.concatenate([keys["location_id"].to_numpy(object), promo_location])
    location_codes, location_names = pd.factorize(locations)  # -1 for a promotion everywhere
    n, n_locations = len(keys), max(len(location_names), 1)
    general = sku_codes.astype(np.int64) * n_days + day_codes
    specific = (sku_codes.astype(np.int64) * n_locations + location_codes) * n_days + day_codes
    for codes, rows in ((specific, ~everywhere), (general, everywhere)):
        if not rows.any():
            continue
        best = pd.Series(discount[rows]).groupby(codes[n:][rows]).max()
        known = best.index.to_numpy()
        at = np.minimum(np.searchsorted(known, codes[:n]), len(known) - 1)
        hit = known[at] == codes[:n]
        result[hit] = np.maximum(result[hit], best.to_numpy()[at[hit]])
    return result


def _covariates(frame: pd.DataFrame, products: pd.DataFrame, promotions: pd.DataFrame) -> None:
    """Add ``unique_id``, ``promo_discount`` and ``price`` (list price net of promotion), in place.

    The price is what is known ahead of time (catalogue list price and planned
    promotions), never a price observed from the day's own sales, which would leak the
    target.
    """
    frame["promo_discount"] = _promo_discount(frame[["sku", "location_id", "ds"]], promotions)
    list_price = frame["sku"].map(products.set_index("sku")["list_price"].astype(float))
    frame["price"] = (list_price * (1.0 - frame["promo_discount"])).round(4)
    if "unique_id" not in frame:
        frame["unique_id"] = frame["sku"] + SEPARATOR + frame["location_id"]


def _history(demand: pd.DataFrame, products: pd.DataFrame, window: ExtractWindow) -> pd.DataFrame:
    """Zero-filled daily history from each series' start to the window's last day, sorted
    by ``unique_id, ds`` (demand is placed by position, not merged on keys)."""
    grouped = demand.groupby(["sku", "location_id"], sort=False)
    first_sale = grouped["ds"].min().reset_index()
    first_sale["unique_id"] = first_sale["sku"] + SEPARATOR + first_sale["location_id"]
    order = np.argsort(first_sale["unique_id"].to_numpy(object), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    first_sale = first_sale.iloc[order].reset_index(drop=True)
    series_of_row = rank[grouped.ngroup().to_numpy()]
    launched = pd.to_datetime(products.set_index("sku")["launched_on"])
    first_sale["launch"] = first_sale["sku"].map(launched)
    start = first_sale[["ds", "launch"]].min(axis=1).clip(lower=pd.Timestamp(window.start))
    last = pd.Timestamp(window.last_day)
    lengths = ((last - start).dt.days + 1).to_numpy()
    block_start = np.cumsum(lengths) - lengths
    offsets = np.arange(lengths.sum()) - np.repeat(block_start, lengths)
    start_day = start.to_numpy("datetime64[D]")
    position = block_start[series_of_row] + (
        demand["ds"].to_numpy("datetime64[D]") - start_day[series_of_row]
    ).astype(np.int64)
    y = np.zeros(int(lengths.sum()))
    y[position] = demand["y"].to_numpy(float)
    return pd.DataFrame(
        {
            "unique_id": np.repeat(first_sale["unique_id"].to_numpy(), lengths),
            "sku": np.repeat(first_sale["sku"].to_numpy(), lengths),
            "location_id": np.repeat(first_sale["location_id"].to_numpy(), lengths),
            "ds": np.repeat(start.to_numpy(), lengths) + pd.to_timedelta(offsets, unit="D"),
            "y": y,
        }
    )


def _by_unique_id(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``, built in ``unique_id, ds`` order (see :func:`_history`), with a default
    index; checked, not sorted: sorting millions of string rows cost seconds a shard.

    Raises:
        ValueError: If the series are not contiguous blocks in ``unique_id`` order.
    """
    uid = frame["unique_id"].to_numpy(object)
    firsts = uid[np.flatnonzero(np.r_[True, uid[1:] != uid[:-1]])] if len(uid) else uid
    if not (firsts[1:] > firsts[:-1]).all():
        raise ValueError("extract rows are not in unique_id order: a bug in their assembly")
    return frame if frame.index.equals(pd.RangeIndex(len(frame))) else frame.reset_index(drop=True)


_KEYS = ["sku", "location_id", "ds"]


def flag_outliers(
    history: pd.DataFrame, factor: float, min_units: float
) -> tuple[np.ndarray, float]:
    """Days whose demand is a data error rather than demand.

    A day is flagged when its units exceed both ``min_units`` and ``factor`` times the
    series' 99th percentile of daily demand, the percentile taken without the series'
    top 1 % of days (so one absurd day cannot raise its own bar). One order line of
    1,000,000 units for a SKU that sells a few a day is flagged; Christmas peaks and real
    bulk orders of a few times the usual level are not.

    Args:
        history: Zero-filled ``unique_id``/``sku, location_id``, ``ds``, ``y``, sorted by
            series and day.
        factor: Multiple of the reference level above which a day is flagged.
        min_units: Days with fewer units are never flagged.

    Returns:
        A boolean mask over the rows, and the units on flagged days.
    """
    y = history["y"].to_numpy(float)
    if len(y) == 0:
        return np.zeros(0, dtype=bool), 0.0
    groups = history.groupby(["sku", "location_id"], sort=False).ngroup().to_numpy()
    frame = pd.DataFrame({"g": groups, "y": y})
    rank = frame.groupby("g")["y"].rank(method="first", ascending=False).to_numpy()
    size = frame.groupby("g")["y"].transform("size").to_numpy()
    top = np.maximum(1, np.ceil(0.01 * size))
    rest = frame.loc[(rank > top) | (size <= 1)]
    reference = rest.groupby("g")["y"].quantile(0.99)
    ref = reference.reindex(np.arange(groups.max() + 1)).fillna(0.0).to_numpy()[groups]
    flagged = (y > min_units) & (y > factor * np.maximum(ref, 1.0))
    return flagged, float(y[flagged].sum())


def assemble_extract(
    demand: pd.DataFrame,
    catalog: Catalog,
    window: ExtractWindow,
    shard: Shard,
    *,
    outlier_factor: float,
    outlier_min_units: float,
) -> Extract:
    """Turn a shard's stored daily demand into the run's history, future, events, prices.

    Args:
        demand: Stored demand of the shard's SKUs (``sku, location_id, ds, y, revenue``) in
            the window.
        catalog: The run's catalogue snapshot.
        window: The run's window.
        shard: The shard (for the catalogue's SKUs).
        outlier_factor: See :func:`flag_outliers`.
        outlier_min_units: See :func:`flag_outliers`.

    Returns:
        The extract; ``cleaning`` counts the rules applied.
    """
    products = shard_products(catalog.products, shard)
    demand = demand.loc[demand["sku"].isin(products["sku"]) & (demand["y"] > 0)]
    prices = _prices(demand, products, window)
    if demand.empty:
        history = pd.DataFrame({c: pd.Series(dtype=object) for c in [*_KEYS, "y"]})
    else:
        history = _history(demand, products, window)  # sorted by unique_id, ds
    flagged, flagged_units = flag_outliers(history, outlier_factor, outlier_min_units)
    history["excluded"] = pd.Series(np.where(flagged, "outlier", ""), dtype=object).replace(
        "", None
    )
    history.loc[flagged, "y"] = np.nan
    stockout = _stockout_days(history, catalog.stockouts)
    history.loc[stockout, "excluded"] = "stockout"
    history.loc[stockout, "y"] = np.nan
    _covariates(history, products, catalog.promotions)
    history = _by_unique_id(history.loc[:, list(EXTRACT_COLUMNS)])
    series = history.drop_duplicates("unique_id")[list(SERIES_KEYS)]
    days = pd.date_range(window.end, window.horizon_end - timedelta(days=1), freq="D")
    future = pd.DataFrame(
        {
            "unique_id": np.repeat(series["unique_id"].to_numpy(), len(days)),
            "sku": np.repeat(series["sku"].to_numpy(), len(days)),
            "location_id": np.repeat(series["location_id"].to_numpy(), len(days)),
            "ds": np.tile(days.to_numpy(), len(series)),
        }
    )
    _covariates(future, products, catalog.promotions)
    future = _by_unique_id(future.loc[:, list(FUTURE_COLUMNS)])
    events = catalog.events.loc[:, ["ds", "name", "kind"]].copy()
    events["ds"] = pd.to_datetime(events["ds"])
    launched = pd.to_datetime(products["launched_on"])
    cleaning = {
        "outlier_days": int(flagged.sum()),
        "outlier_units": flagged_units,
        "stockout_days": int(stockout.sum()),
        "series_launched_last_7_days": int(
            (
                (launched > pd.Timestamp(window.last_day) - pd.Timedelta(days=7))
                & (launched <= pd.Timestamp(window.last_day))
            ).sum()
        ),
    }
    # A catalogue read before products' text was extracted has no name or description.
    catalogue = catalog.products.reindex(columns=list(CATALOGUE_COLUMNS)).sort_values("sku")
    reviews = catalog.reviews
    if not reviews.empty:
        # By the SKU's hash, not catalogue membership: a review of an unknown SKU lands in
        # one shard, where validation counts it.
        mine = shard_of_many(reviews["sku"].astype(str).to_numpy(), shard.count) == shard.index
        reviews = reviews.loc[mine].reset_index(drop=True)
        cleaning["reviews"] = len(reviews)
    return Extract(
        history,
        future,
        events,
        prices,
        cleaning,
        catalogue.reset_index(drop=True),
        reviews,
    )


def _stockout_days(history: pd.DataFrame, stockouts: pd.DataFrame) -> np.ndarray:
    """Rows of ``history`` on a day its SKU was out of stock at its location."""
    if stockouts.empty or history.empty:
        return np.zeros(len(history), dtype=bool)
    keys = pd.MultiIndex.from_frame(
        stockouts.assign(ds=pd.to_datetime(stockouts["ds"])).loc[:, ["sku", "location_id", "ds"]]
    )
    rows = pd.MultiIndex.from_frame(
        history.assign(ds=pd.to_datetime(history["ds"])).loc[:, ["sku", "location_id", "ds"]]
    )
    return np.asarray(rows.isin(keys))


def _prices(demand: pd.DataFrame, products: pd.DataFrame, window: ExtractWindow) -> pd.DataFrame:
    """List price against what customers paid per unit over the last :data:`PRICE_DAYS` days."""
    first = pd.Timestamp(window.last_day) - pd.Timedelta(days=PRICE_DAYS - 1)
    recent = demand.loc[demand["ds"] >= first]
    paid = recent.groupby("sku").agg(
        units=("y", "sum"), revenue=("revenue", "sum"), line_count=("line_count", "sum")
    )
    out = products[["sku", "list_price"]].merge(paid, on="sku", how="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["avg_unit_price"] = out["revenue"] / out["units"]
    out["line_count"] = out["line_count"].fillna(0).astype("int64")
    ratio = out["list_price"].astype(float) / out["avg_unit_price"]
    out["price_ratio"] = ratio.where(out["avg_unit_price"] > 0, 1.0).fillna(1.0)
    return out.loc[:, ["sku", "list_price", "avg_unit_price", "line_count", "price_ratio"]]
