"""``validate``: Great Expectations on the customer lines, and enough history to train on."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from forecasting import artifacts
from forecasting.customers.features import LABEL_DAYS, LINE_COLUMNS
from forecasting.pipelines.customers.handoffs import Extracted, Validated
from forecasting.resources import Resources
from forecasting.storage import Storage, read_parquet, write_json

__all__ = [
    "PSEUDONYM_PATTERN",
    "customer_expectations",
    "event_expectations",
    "events_path",
    "read_events",
    "read_lines",
    "read_products",
    "validate_customers_step",
]

PSEUDONYM_PATTERN = r"^[0-9a-f]{32}$"


def read_lines(storage: Storage, extracted: Extracted) -> pd.DataFrame:
    """The customer lines an :class:`Extracted` stage holds."""
    return read_parquet(storage.open(extracted.uri) / artifacts.CUSTOMER_LINES)


def read_products(storage: Storage, extracted: Extracted) -> pd.DataFrame | None:
    """The catalogue's text an :class:`Extracted` stage holds (``None`` in a stage written
    before the content recommender: no content scores then)."""
    from forecasting.pipelines.customers.steps.extract import CUSTOMER_PRODUCTS

    path = storage.open(extracted.uri) / CUSTOMER_PRODUCTS
    return read_parquet(path) if path.exists() else None


def events_path(storage: Storage, extracted: Extracted) -> str:
    """The stage's web events file (``""`` when the shop has none: no event features)."""
    from forecasting.pipelines.customers.steps.extract import CUSTOMER_EVENTS

    path = storage.open(extracted.uri) / CUSTOMER_EVENTS
    return str(path) if path.exists() else ""


def read_events(storage: Storage, extracted: Extracted) -> pd.DataFrame | None:
    """The identified customers' web events an :class:`Extracted` stage holds
    (:data:`~forecasting.behaviour.events.CUSTOMER_COLUMNS`; ``None``: none)."""
    from forecasting.customers.serving import read_events as read_events_file

    return read_events_file(events_path(storage, extracted))


def customer_expectations() -> list[Any]:
    """The Great Expectations rules on customer lines."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(LINE_COLUMNS), exact_match=True),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in LINE_COLUMNS],
        gxe.ExpectColumnValuesToMatchRegex(column="customer", regex=PSEUDONYM_PATTERN),
        gxe.ExpectColumnValuesToMatchRegex(column="order", regex=PSEUDONYM_PATTERN),
        gxe.ExpectColumnValuesToBeInSet(column="cancelled", value_set=[0, 1]),
        gxe.ExpectColumnValuesToBeBetween(column="unit_price", min_value=0, strict_min=False),
        gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=-100_000, max_value=100_000),
    ]


def event_expectations() -> list[Any]:
    """The Great Expectations rules on the customers' web events (when the shop has any)."""
    import great_expectations.expectations as gxe

    from forecasting.behaviour.events import CUSTOMER_COLUMNS

    kinds = ["view", "cart_add", "cart_remove", "wishlist"]
    return [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(CUSTOMER_COLUMNS), exact_match=True),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in CUSTOMER_COLUMNS],
        gxe.ExpectColumnValuesToMatchRegex(column="customer", regex=PSEUDONYM_PATTERN),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=kinds),
        gxe.ExpectColumnValuesToBeBetween(column="events", min_value=1),
    ]


def validate_customers_step(run_day: date, extracted: Extracted, resources: Resources) -> Validated:
    """Great Expectations on the customer lines; enough history to train on.

    Raises:
        ValidationFailedError: Naming each failed rule, the table and sample rows.
    """
    from forecasting.validation.suite import (
        Finding,
        ValidationFailedError,
        ValidationReport,
        validate_frame,
    )

    storage = resources.storage
    lines = read_lines(storage, extracted)
    table = "customer order lines (customers_extract/lines.parquet)"
    findings = validate_frame(lines, customer_expectations(), table, ("customer", "order", "sku"))
    events = read_events(storage, extracted)
    tables = {table: len(lines)}
    if events is not None:
        event_table = "customer web events (customers_extract/customer_events.parquet)"
        keys = ("customer", "sku", "ds")
        findings += validate_frame(events, event_expectations(), event_table, keys)
        tables[event_table] = len(events)
    span = (lines["ds"].max() - lines["ds"].min()).days + 1 if len(lines) else 0
    needed = 8 * LABEL_DAYS
    findings.append(
        Finding(
            "history_covers_training_cutoffs",
            {"min_days": str(needed)},
            span >= needed,
            table,
            observed=f"{span} days of customer orders",
        )
    )
    report = ValidationReport(f"customer lines for {run_day}", True, tables, findings)
    report = ValidationReport(report.subject, not report.failures, report.tables, findings)
    with storage.write_stage(run_day, "customers_validate") as folder:
        write_json(folder / artifacts.VALIDATION_REPORT, report.to_dict())
    if not report.success:
        raise ValidationFailedError(report, storage.uri(folder / artifacts.VALIDATION_REPORT))
    return Validated.of(
        extracted,
        report_uri=storage.uri(folder / artifacts.VALIDATION_REPORT),
        customers=int(lines["customer"].nunique()),
        rules=len(findings),
    )
