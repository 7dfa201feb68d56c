"""``extract``: the window's customer order lines, pseudonymised as they are read, the
catalogue's text (name, description, category) the content recommender is fitted on, and
(with a ``web_events`` table) identified customers' web events, aggregated per customer,
SKU, day and type."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pandas as pd
from sqlalchemy.engine import Engine

from forecasting import artifacts
from forecasting.customers.config import CustomerConfig
from forecasting.pipelines.customers.handoffs import Extracted
from forecasting.resources import Resources
from forecasting.storage import write_json, write_parquet

__all__ = [
    "CUSTOMER_EVENTS",
    "CUSTOMER_PRODUCTS",
    "extract_customers_step",
    "read_customer_products",
]

#: The catalogue's text in the ``customers_extract`` stage.
CUSTOMER_PRODUCTS = "products.parquet"
#: Identified customers' web events in the ``customers_extract`` stage (only when any).
CUSTOMER_EVENTS = "customer_events.parquet"


def read_customer_products(engine: Engine) -> pd.DataFrame:
    """The catalogue's text: ``sku, name, description, category`` of sellable products
    (``include/sql/customers/select_customer_products.sql``)."""
    from forecasting.db import read_frame
    from forecasting.extraction.source import NON_PRODUCT_CATEGORY

    products = read_frame(
        engine, "customers/select_customer_products", {"excluded_category": NON_PRODUCT_CATEGORY}
    )
    for column in ("sku", "name", "description", "category"):
        products[column] = products[column].astype("string")
    return products


def extract_customers_step(
    run_day: date, config: CustomerConfig, resources: Resources, key: bytes
) -> Extracted:
    """Read ``history_days`` of customer order lines up to the run's day, pseudonymised as
    they are read (customers who opted out are left out by the query), and the catalogue's
    text (:func:`read_customer_products`, no customer data) and ``event_history_days`` of
    identified customers' web events
    (:func:`~forecasting.customers.extract.read_customer_events`: pseudonymised,
    opted-out customers left out by the query; written only when there are any, and then
    part of the fingerprint); forget the opted-out customers in every stored customer
    partition of every date (:func:`~forecasting.customers.privacy.forget_stored`).

    Args:
        run_day: The run's day.
        config: The customer models' configuration.
        resources: The shop's database (``source``) and ``storage``.
        key: The pseudonymisation key.

    Returns:
        The stage's URI, counts and fingerprints, and what the stored partitions lost.
    """
    from forecasting.customers.extract import read_customer_events, read_customer_lines
    from forecasting.customers.privacy import (
        forget_stored,
        forgotten_pseudonyms,
        optouts_fingerprint,
    )

    settings, storage = resources.settings, resources.storage
    first = run_day - timedelta(days=config.history_days - 1)
    extract = read_customer_lines(
        resources.source, first, run_day, key, settings.shop_timezone, settings.source_timezone
    )
    events = None
    if config.event_history_days:
        events = read_customer_events(
            resources.source,
            run_day - timedelta(days=config.event_history_days - 1),
            run_day,
            key,
            settings.shop_timezone,
            settings.source_timezone,
        )
    counts, fingerprint = dict(extract.counts), extract.fingerprint
    if events is not None and len(events.events):
        counts["web_events"] = events.counts["rows"]
        counts["web_event_rows"] = len(events.events)
        joined = f"{fingerprint}:{events.fingerprint}".encode()
        fingerprint = hashlib.sha256(joined).hexdigest()
    forgotten = forgotten_pseudonyms(resources.source, key)
    forget = forget_stored(storage, forgotten)
    with storage.write_stage(run_day, "customers_extract") as folder:
        write_parquet(extract.lines, folder / artifacts.CUSTOMER_LINES)
        write_json(folder / artifacts.CUSTOMER_COUNTS, counts)
        write_parquet(read_customer_products(resources.source), folder / CUSTOMER_PRODUCTS)
        if events is not None and len(events.events):
            write_parquet(events.events, folder / CUSTOMER_EVENTS)
    return Extracted(
        uri=storage.uri(folder),
        counts=counts,
        fingerprint=fingerprint,
        forgotten=len(forgotten),
        optouts_fingerprint=optouts_fingerprint(forgotten),
        forget=forget,
        first_day=first.isoformat(),
    )
