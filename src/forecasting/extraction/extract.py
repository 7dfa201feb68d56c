"""A shard's extract for one run: daily demand and its covariates, ready to validate.

Built from the demand store (:mod:`forecasting.extraction.store`) and the catalogue that
``sync_source`` read, never from the source database. The extract folder holds:

* ``demand.parquet`` -- history: one row per series (SKU x location) and day from the
  series' start (launch date or first sale) to the run's day, zeros filled; columns
  :data:`EXTRACT_COLUMNS`. ``y`` is empty (NaN) on days excluded from training and
  accuracy, and ``excluded`` says why (``outlier``: an absurd quantity, see
  :func:`~forecasting.extraction.assemble.flag_outliers`; ``stockout``: no units on hand
  at close in the optional ``inventory_snapshots`` table, so the day's sales say nothing
  about demand).
* ``future.parquet`` -- the covariates of the ``horizon`` days after the run's day
  (planned promotions, list prices), without ``y``.
* ``events.parquet`` -- calendar events from the window start to the horizon end.
* ``prices.parquet`` -- each SKU's list price against what customers paid lately.
* ``catalogue.parquet`` -- every sellable product with its text (all shards): what the
  text model is fitted on and what products launching in the horizon are forecast from.
* ``reviews.parquet`` -- the shard's customer reviews of the window from the optional
  ``product_reviews`` table, reviewers pseudonymised (only when there are any: without the
  table the extract is what it was).
* ``behaviour.parquet`` -- the shard's daily web behaviour (views, sessions, cart adds
  and removes, wishlist adds, matched searches per SKU, location and day) of the window's
  days the event store covers (:mod:`forecasting.behaviour.store`; only when the source
  has web events: without them the extract is what it was).
* ``manifest.json`` -- window, shard, row counts, cleaning counts and a content fingerprint
  (and, with web events, ``behaviour``: its rows, days and the events' cleaning counts).

No raw customer id is written: demand is aggregated per SKU, location and day, and a
reviewer's id is replaced by its keyed pseudonym (or nothing) as it is read. The frames are
assembled in :mod:`forecasting.extraction.assemble`; this module writes and reads the folder.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine
from upath import UPath

from forecasting.artifacts import (
    EXTRACT_BEHAVIOUR,
    EXTRACT_CATALOGUE,
    EXTRACT_DEMAND,
    EXTRACT_EVENTS,
    EXTRACT_FUTURE,
    EXTRACT_MANIFEST,
    EXTRACT_PRICES,
    EXTRACT_REVIEWS,
)
from forecasting.config import DataChecks
from forecasting.extraction.assemble import (
    Extract,
    assemble_extract,
    empty_catalogue,
    shard_products,
)
from forecasting.extraction.source import Catalog, empty_reviews
from forecasting.extraction.window import ExtractWindow
from forecasting.schema import EXTRACT_COLUMNS, FUTURE_COLUMNS, SEPARATOR
from forecasting.sharding import Shard
from forecasting.storage import read_json, read_parquet, write_json, write_parquet

__all__ = [
    "EXTRACT_COLUMNS",
    "FUTURE_COLUMNS",
    "SEPARATOR",
    "Extract",
    "ExtractResult",
    "assemble_extract",
    "extract_all",
    "read_catalog_snapshot",
    "read_partition",
    "shard_products",
    "write_catalog_snapshot",
    "write_partition",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractResult:
    """What :func:`write_partition` wrote.

    Attributes:
        uri: Extract folder (a committed attempt on storage).
        shard: The shard.
        window: The extracted window.
        rows: Rows of ``demand.parquet``.
        series: Number of series.
        future_rows: Rows of ``future.parquet``.
        fingerprint: SHA-256 over the extracted content (not the file bytes).
        cleaning: Counts of the cleaning rules applied.
        behaviour: With web events: ``rows`` of ``behaviour.parquet``, the ``first_day``
            and ``last_day`` it covers and the events' cleaning counts of those days (shop
            wide: ``events_read``, ``duplicate_events``, ``bot_sessions``, ``bot_events``);
            ``None`` (and absent from the manifest) without.
    """

    uri: str
    shard: dict[str, int]
    window: ExtractWindow
    rows: int
    series: int
    future_rows: int
    fingerprint: str
    cleaning: dict[str, float] = field(default_factory=dict)
    behaviour: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what the manifest and XCom hold); ``behaviour`` only with web
        events, so an extract without them has the manifest it had before."""
        out = asdict(self)
        out["window"] = self.window.to_dict()
        if self.behaviour is None:
            del out["behaviour"]
        return out


def write_catalog_snapshot(catalog: Catalog, folder: UPath) -> None:
    """Write the catalogue read by ``sync_source`` (one parquet file per frame)."""
    for name in Catalog.FRAMES:
        write_parquet(getattr(catalog, name), folder / f"{name}.parquet")


def read_catalog_snapshot(folder: UPath) -> Catalog:
    """Read a catalogue written by :func:`write_catalog_snapshot` (a snapshot written
    before reviews were extracted has none)."""
    frames = {
        name: read_parquet(folder / f"{name}.parquet")
        for name in Catalog.FRAMES
        if name != "reviews" or (folder / f"{name}.parquet").exists()
    }
    return Catalog(**frames)


def extract_all(
    engine: Engine,
    window: ExtractWindow,
    storage_root: UPath,
    *,
    shard: Shard | None = None,
    checks: DataChecks | None = None,
    shop_tz: str = "UTC",
    source_tz: str = "UTC",
    full_refresh: bool = False,
    customer_key: bytes | None = None,
) -> Extract:
    """Source database to one shard's extract in one call (benchmarks, notebooks, tests).

    The same steps as the DAG's ``sync_source`` and ``extract``: the catalogue (with the
    window's reviews, reviewers pseudonymised with ``customer_key`` or dropped without it),
    the demand store brought up to the window's last day (``storage_root/store``), and the
    assembly.

    Returns:
        The extract, as :func:`assemble_extract` gives it.
    """
    from forecasting.config import DataChecks
    from forecasting.extraction.source import read_catalog
    from forecasting.extraction.store import DemandStore

    checks = checks or DataChecks()
    shard = shard or Shard(0, 1)
    catalog = read_catalog(
        engine,
        window.start,
        window.horizon_end,
        last_day=window.last_day,
        shop_tz=shop_tz,
        source_tz=source_tz,
        customer_key=customer_key,
    )
    store = DemandStore.for_source(storage_root, str(engine.url), shop_tz, source_tz)
    store.sync(
        engine,
        window.start,
        window.last_day,
        lookback_days=0,
        shop_tz=shop_tz,
        source_tz=source_tz,
        full_refresh=full_refresh,
    )
    skus = set(shard_products(catalog.products, shard)["sku"])
    return assemble_extract(
        store.read(window.start, window.last_day, skus),
        catalog,
        window,
        shard,
        outlier_factor=checks.outlier_factor,
        outlier_min_units=checks.outlier_min_units,
    )


def _fingerprint(*frames: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        digest.update(",".join(frame.columns).encode())
    return digest.hexdigest()


def write_partition(
    folder: UPath,
    extract: Extract,
    window: ExtractWindow,
    shard: Shard,
    behaviour_facts: dict[str, Any] | None = None,
) -> ExtractResult:
    """Write a shard's extract into ``folder`` (an attempt folder) with its manifest.

    The same store content and window give identical files (rows are sorted; nothing
    time-dependent is recorded).

    Args:
        folder: The attempt folder.
        extract: The shard's extract.
        window: Its window.
        shard: The shard.
        behaviour_facts: With web events (``extract.behaviour`` not ``None``): the days
            covered and the events' cleaning counts, recorded in the manifest.
    """
    history, future, events = extract.history, extract.future, extract.events
    behaviour = extract.behaviour
    result = ExtractResult(
        uri=str(folder),
        shard=shard.to_dict(),
        window=window,
        rows=len(history),
        series=int(history["unique_id"].nunique()),
        future_rows=len(future),
        # Reviews and behaviour only when there are any: without them the fingerprint is
        # what it was.
        fingerprint=_fingerprint(
            history,
            future,
            events,
            *([extract.reviews] if not extract.reviews.empty else []),
            *([behaviour] if behaviour is not None else []),
        ),
        cleaning=extract.cleaning,
        behaviour=None
        if behaviour is None
        else {"rows": len(behaviour), **(behaviour_facts or {})},
    )
    write_parquet(history, folder / EXTRACT_DEMAND)
    write_parquet(future, folder / EXTRACT_FUTURE)
    write_parquet(events, folder / EXTRACT_EVENTS)
    write_parquet(extract.prices, folder / EXTRACT_PRICES)
    write_parquet(extract.catalogue, folder / EXTRACT_CATALOGUE)
    if not extract.reviews.empty:
        write_parquet(extract.reviews, folder / EXTRACT_REVIEWS)
    if behaviour is not None:
        write_parquet(behaviour, folder / EXTRACT_BEHAVIOUR)
    write_json(folder / EXTRACT_MANIFEST, result.to_dict())
    log.info(
        "extract %s: %d rows, %d series for %s..%s (%d outlier days excluded)",
        shard.name,
        result.rows,
        result.series,
        window.start,
        window.last_day,
        extract.cleaning.get("outlier_days", 0),
    )
    return result


def read_partition(
    folder: UPath, categorical: tuple[str, ...] = ()
) -> tuple[Extract, dict[str, Any]]:
    """Read an extract written by :func:`write_partition`, and its manifest.

    Args:
        folder: The partition.
        categorical: Demand columns to read as pandas categories (decoded straight from
            parquet's dictionaries: no Python string per row).
    """
    manifest = read_json(folder / EXTRACT_MANIFEST)
    extract = Extract(
        read_parquet(folder / EXTRACT_DEMAND, read_dictionary=list(categorical) or None),
        read_parquet(folder / EXTRACT_FUTURE),
        read_parquet(folder / EXTRACT_EVENTS),
        read_parquet(folder / EXTRACT_PRICES),
        manifest.get("cleaning", {}),
        # An extract written before the catalogue was part of it has none.
        read_parquet(folder / EXTRACT_CATALOGUE)
        if (folder / EXTRACT_CATALOGUE).exists()
        else empty_catalogue(),
        # Written only when the shard has reviews.
        read_parquet(folder / EXTRACT_REVIEWS)
        if (folder / EXTRACT_REVIEWS).exists()
        else empty_reviews(),
        # Written only when the source has web events.
        read_parquet(folder / EXTRACT_BEHAVIOUR) if (folder / EXTRACT_BEHAVIOUR).exists() else None,
    )
    return extract, manifest
