"""Extract daily demand and its covariates for one data window into a partition.

A partition folder holds:

* ``demand.parquet`` -- history: one row per series (SKU x location) and day from the
  series' start (launch date or first sale) to the end of the window, zeros filled;
  columns :data:`EXTRACT_COLUMNS`.
* ``future.parquet`` -- the same covariates for the ``horizon`` days after the window
  (planned promotions, list prices), without ``y``.
* ``events.parquet`` -- calendar events from the window start to the horizon end.
* ``manifest.json`` -- window, row counts and a content fingerprint.

No customer id leaves extraction: demand is aggregated per SKU, location and day.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from forecasting.db import read_frame
from forecasting.storage import atomic_dir

__all__ = [
    "EXTRACT_COLUMNS",
    "ExtractResult",
    "ExtractWindow",
    "extract_partition",
    "read_partition",
]

log = logging.getLogger(__name__)

#: Columns of ``demand.parquet`` in order (``future.parquet`` has all but ``y``).
EXTRACT_COLUMNS = ("unique_id", "sku", "location_id", "ds", "y", "price", "promo_discount")
#: Product category that is not demand (postage, fees, vouchers).
NON_PRODUCT_CATEGORY = "non-product"
SEPARATOR = "@"


@dataclass(frozen=True)
class ExtractWindow:
    """Days of history and of future covariates one run extracts.

    Attributes:
        start: First history day (inclusive).
        end: Day after the last history day (exclusive): the data interval's end.
        horizon_end: Day after the last forecast day (exclusive).
    """

    start: date
    end: date
    horizon_end: date

    @classmethod
    def for_logical_date(cls, logical_date: date, history_days: int, horizon: int) -> ExtractWindow:
        """Window for a daily run: history up to and including ``logical_date``.

        A daily DAG run for logical date D covers the data interval [D, D + 1 day): its
        history ends with day D and it forecasts D + 1 ... D + horizon.
        """
        end = logical_date + timedelta(days=1)
        return cls(end - timedelta(days=history_days), end, end + timedelta(days=horizon))

    @property
    def last_day(self) -> date:
        """Last history day."""
        return self.end - timedelta(days=1)

    def params(self) -> dict[str, str]:
        """Bound parameters for the SQL files.

        Strings in the stored formats compare correctly in both dialects: timestamps as
        ``YYYY-MM-DD HH:MM:SS`` (for ``DATETIME`` columns), days as ``YYYY-MM-DD`` (for
        ``DATE`` columns; SQLite keeps both as text).
        """
        return {
            "window_start": f"{self.start.isoformat()} 00:00:00",
            "window_end": f"{self.end.isoformat()} 00:00:00",
            "start_day": self.start.isoformat(),
            "horizon_end_day": self.horizon_end.isoformat(),
            "excluded_category": NON_PRODUCT_CATEGORY,
        }

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {k: v.isoformat() for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ExtractResult:
    """What :func:`extract_partition` wrote.

    Attributes:
        path: Partition folder.
        window: The extracted window.
        rows: Rows of ``demand.parquet``.
        series: Number of series.
        future_rows: Rows of ``future.parquet``.
        fingerprint: SHA-256 over the extracted content (not the file bytes).
    """

    path: str
    window: ExtractWindow
    rows: int
    series: int
    future_rows: int
    fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what the manifest holds)."""
        out = asdict(self)
        out["window"] = self.window.to_dict()
        return out


def _promo_discount(keys: pd.DataFrame, promotions: pd.DataFrame) -> np.ndarray:
    """Largest promotion discount (fraction) for each ``sku, location_id, ds`` row."""
    result = np.zeros(len(keys))
    if promotions.empty or keys.empty:
        return result
    promos = promotions.assign(
        starts_on=pd.to_datetime(promotions["starts_on"]),
        ends_on=pd.to_datetime(promotions["ends_on"]),
        discount=promotions["discount_pct"].astype(float) / 100.0,
    )
    days = [
        pd.date_range(s, e, freq="D")
        for s, e in zip(promos["starts_on"], promos["ends_on"], strict=True)
    ]
    exploded = promos.assign(ds=days).explode("ds")[["sku", "location_id", "ds", "discount"]]
    exploded["ds"] = pd.to_datetime(exploded["ds"])
    everywhere = exploded["location_id"].isna()
    frame = keys.reset_index(drop=True).assign(_row=np.arange(len(keys)))
    specific = frame.merge(exploded.loc[~everywhere], on=["sku", "location_id", "ds"])
    general = frame.merge(exploded.loc[everywhere].drop(columns="location_id"), on=["sku", "ds"])
    both = pd.concat([specific[["_row", "discount"]], general[["_row", "discount"]]])
    if len(both):
        best = both.groupby("_row")["discount"].max()
        result[best.index.to_numpy()] = best.to_numpy()
    return result


def _history(demand: pd.DataFrame, products: pd.DataFrame, window: ExtractWindow) -> pd.DataFrame:
    """Zero-filled daily history from each series' start to the window's last day."""
    demand = demand.assign(ds=pd.to_datetime(demand["ds"]), y=demand["y"].astype(float))
    first_sale = demand.groupby(["sku", "location_id"], as_index=False)["ds"].min()
    launched = pd.to_datetime(products.set_index("sku")["launched_on"])
    first_sale["launch"] = first_sale["sku"].map(launched)
    start = first_sale[["ds", "launch"]].min(axis=1)
    start = start.clip(lower=pd.Timestamp(window.start))
    last = pd.Timestamp(window.last_day)
    lengths = ((last - start).dt.days + 1).to_numpy()
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    grid = pd.DataFrame(
        {
            "sku": np.repeat(first_sale["sku"].to_numpy(), lengths),
            "location_id": np.repeat(first_sale["location_id"].to_numpy(), lengths),
            "ds": np.repeat(start.to_numpy(), lengths) + pd.to_timedelta(offsets, unit="D"),
        }
    )
    history = grid.merge(demand, on=["sku", "location_id", "ds"], how="left")
    history["y"] = history["y"].fillna(0.0)
    return history


def _covariates(
    frame: pd.DataFrame, products: pd.DataFrame, promotions: pd.DataFrame
) -> pd.DataFrame:
    """Add ``unique_id``, ``promo_discount`` and ``price`` (list price net of promotion).

    The price is what is known ahead of time (catalog list price and planned promotions),
    never a price observed from the day's own sales, which would leak the target.
    """
    frame = frame.copy()
    frame["promo_discount"] = _promo_discount(frame[["sku", "location_id", "ds"]], promotions)
    list_price = frame["sku"].map(products.set_index("sku")["list_price"].astype(float))
    frame["price"] = (list_price * (1.0 - frame["promo_discount"])).round(4)
    frame["unique_id"] = frame["sku"] + SEPARATOR + frame["location_id"]
    return frame


def _fingerprint(*frames: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        digest.update(",".join(frame.columns).encode())
    return digest.hexdigest()


def extract_partition(engine: Engine, window: ExtractWindow, out_dir: str | Path) -> ExtractResult:
    """Run the extraction SQL for ``window`` and write the partition to ``out_dir``.

    Re-running with the same source data and window writes identical files (rows are
    sorted; no timestamps are recorded). The folder is replaced atomically.

    Args:
        engine: Source database.
        window: Days to extract.
        out_dir: Partition folder (replaced).

    Returns:
        Paths and counts.

    Raises:
        ValueError: If the window holds no demand at all.
    """
    params = window.params()
    demand = read_frame(engine, "extract/select_daily_demand", params)
    products = read_frame(engine, "extract/select_products", params)
    promotions = read_frame(engine, "extract/select_promotions", params)
    events = read_frame(engine, "extract/select_calendar_events", params)
    if demand.empty:
        raise ValueError(
            f"no demand between {window.start} and {window.last_day}: nothing to forecast "
            "(is the source database loaded, and is the logical date inside its history?)"
        )
    history = _covariates(_history(demand, products, window), products, promotions)
    history = history.loc[:, list(EXTRACT_COLUMNS)].sort_values(
        ["unique_id", "ds"], ignore_index=True
    )
    series = history.drop_duplicates("unique_id")[["unique_id", "sku", "location_id"]]
    days = pd.date_range(window.end, window.horizon_end - timedelta(days=1), freq="D")
    future = pd.DataFrame(
        {
            "sku": np.repeat(series["sku"].to_numpy(), len(days)),
            "location_id": np.repeat(series["location_id"].to_numpy(), len(days)),
            "ds": np.tile(days.to_numpy(), len(series)),
        }
    )
    future = _covariates(future, products, promotions)
    future = future.loc[:, [c for c in EXTRACT_COLUMNS if c != "y"]]
    future = future.sort_values(["unique_id", "ds"], ignore_index=True)
    events = events.assign(ds=pd.to_datetime(events["ds"]))[["ds", "name", "kind"]]
    result = ExtractResult(
        path=str(Path(out_dir)),
        window=window,
        rows=len(history),
        series=len(series),
        future_rows=len(future),
        fingerprint=_fingerprint(history, future, events),
    )
    with atomic_dir(out_dir) as tmp:
        history.to_parquet(tmp / "demand.parquet", index=False)
        future.to_parquet(tmp / "future.parquet", index=False)
        events.to_parquet(tmp / "events.parquet", index=False)
        (tmp / "manifest.json").write_text(json.dumps(result.to_dict(), indent=2))
    log.info(
        "extracted %d rows, %d series for %s..%s",
        result.rows,
        result.series,
        window.start,
        window.last_day,
    )
    return result


def read_partition(
    path: str | Path,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Read an extract partition: ``(demand, future, events, manifest)``."""
    path = Path(path)
    manifest = json.loads((path / "manifest.json").read_text())
    return (
        pd.read_parquet(path / "demand.parquet"),
        pd.read_parquet(path / "future.parquet"),
        pd.read_parquet(path / "events.parquet"),
        manifest,
    )
