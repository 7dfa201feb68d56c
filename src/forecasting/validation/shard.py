"""Validating one shard's extract: the GX suites, plus the facts the catalogue checks need."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from upath import UPath

from forecasting.config import DataChecks
from forecasting.extraction.extract import EXTRACT_COLUMNS, read_partition
from forecasting.extraction.window import ExtractWindow
from forecasting.sharding import Shard
from forecasting.validation.checks import daily_units
from forecasting.validation.suite import (
    ValidationReport,
    catalogue_price_expectations,
    catalogue_text_expectations,
    demand_expectations,
    future_expectations,
    key_expectations,
    review_expectations,
    validate_frame,
)

__all__ = ["validate_shard"]


#: Demand columns whose few distinct strings repeat on every row.
_REPEATED = ("unique_id", "sku", "location_id", "excluded")


def validate_shard(
    folder: UPath,
    shard: Shard,
    window: ExtractWindow,
    horizon: int,
    active_days: int | None,
    checks: DataChecks,
) -> tuple[ValidationReport, dict[str, Any]]:
    """Validate a shard's extract (``demand``, ``future``, ``catalogue_prices``; the
    ``catalogue``'s text in shard 0, which every shard shares; ``reviews`` when the shard
    has any).

    Returns:
        The report, and facts for the catalogue checks: ``series``, ``active_series``
        (sold in the last ``active_days``), ``daily_units`` (last five weeks), ``rows``,
        ``first_sale`` (the shard's first day with demand, ``None`` without any).
    """
    # Repeated strings as categories: GX copies the frame for many of its metrics, and
    # copying codes instead of Python strings halves a 30,000-series shard's suite time.
    extract, manifest = read_partition(folder, categorical=_REPEATED)
    demand, future, prices = extract.history, extract.future, extract.prices
    series = int(demand["unique_id"].nunique())
    findings = validate_frame(
        demand,
        demand_expectations(window, EXTRACT_COLUMNS, checks),
        f"demand ({folder / 'demand.parquet'})",
    )
    keys = demand.loc[:, ["sku", "location_id"]].drop_duplicates(ignore_index=True)
    findings += validate_frame(
        keys,
        key_expectations(checks),
        f"demand keys (distinct sku, location_id of {folder / 'demand.parquet'})",
        index_columns=("sku", "location_id"),
    )
    findings += validate_frame(
        future,
        future_expectations(window, series, horizon),
        f"future ({folder / 'future.parquet'})",
    )
    findings += validate_frame(
        prices,
        catalogue_price_expectations(checks),
        f"catalogue_prices ({folder / 'prices.parquet'}: products.list_price vs "
        "order_lines.unit_price, last 91 days)",
        index_columns=("sku",),
    )
    tables = {
        "demand": len(demand),
        "demand keys": len(keys),
        "future": len(future),
        "catalogue_prices": len(prices),
    }
    if shard.index == 0:
        findings += validate_frame(
            extract.catalogue,
            catalogue_text_expectations(window),
            f"catalogue ({folder / 'catalogue.parquet'}: products' text and launch dates)",
            index_columns=("sku",),
        )
        tables["catalogue"] = len(extract.catalogue)
    if not extract.reviews.empty:
        findings += validate_frame(
            extract.reviews,
            review_expectations(window, extract.catalogue["sku"].astype(str).tolist()),
            f"reviews ({folder / 'reviews.parquet'}: product_reviews)",
            index_columns=("review_id", "sku"),
        )
        tables["reviews"] = len(extract.reviews)
    report = ValidationReport(
        subject=f"extract {shard.name} for {window.last_day}",
        success=not any(not f.success and f.blocking for f in findings),
        tables=tables,
        findings=findings,
    )
    if active_days:
        recent_first = np.datetime64(window.last_day - timedelta(days=active_days - 1))
        recent = demand.loc[(demand["ds"] >= recent_first) & (demand["y"] > 0)]
        active = int(recent["unique_id"].nunique())
    else:
        active = series
    sold = demand.loc[demand["y"] > 0, "ds"]
    facts = {
        "first_sale": None if sold.empty else str(pd.Timestamp(sold.min()).date()),
        "series": series,
        "active_series": active,
        "rows": len(demand),
        "daily_units": daily_units(demand, window.last_day),
        "fingerprint": manifest["fingerprint"],
        "cleaning": manifest.get("cleaning", {}),
        "warnings": len(report.warnings),
    }
    return report, facts
