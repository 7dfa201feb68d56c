"""Great Expectations checks of one shop day's raw web events, before they are cleaned.

Rules (table ``web_events``), every one blocking:

* ``event_id`` is never missing;
* ``event_type`` is one of :data:`~forecasting.behaviour.events.EVENT_TYPES`;
* ``occurred_at`` (shop time) lies inside the day that was read (a wrong timezone setting
  or a broken conversion shows here);
* of the ``view``, ``cart_add`` and ``wishlist`` events with a SKU, at least
  ``1 - DataChecks.max_unknown_event_sku_share`` (95 % by default) name a SKU the
  catalogue knows: a few events of retired or not yet listed products are normal, a log
  whose SKUs the catalogue does not know is not.

A failure stops the event sync before anything of the day is written, with
:class:`~forecasting.validation.ValidationFailedError` naming the rule, the table and
sample rows (event id and time, and the offending value; ids are already pseudonymised).
Repeated event ids and bot sessions are not failures: :func:`~forecasting.behaviour.events
.clean_events` counts and drops them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from forecasting.behaviour.events import EVENT_TYPES
from forecasting.config import DataChecks
from forecasting.validation.suite import (
    ValidationFailedError,
    ValidationReport,
    validate_frame,
)

__all__ = [
    "CHECKED_COLUMNS",
    "EVENTS_TABLE",
    "SKU_EVENT_TYPES",
    "check_events",
    "event_expectations",
    "validate_events",
]

#: The table named in findings.
EVENTS_TABLE = "web_events"
#: Event types whose SKU must be known to the catalogue (mostly).
SKU_EVENT_TYPES = ("view", "cart_add", "wishlist")
#: The columns the rules read (the rest of the frame is not handed to GX).
CHECKED_COLUMNS = ("event_id", "occurred_at", "event_type", "sku")
#: Columns that identify a sample row.
_INDEX_COLUMNS = ("event_id", "occurred_at")


def event_expectations(day: date, known_skus: list[str], checks: DataChecks) -> list[Any]:
    """The suite for one shop day's raw events (see module docstring).

    Args:
        day: The shop day the events were read for.
        known_skus: The catalogue's SKUs.
        checks: Thresholds (``max_unknown_event_sku_share``).
    """
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    first = pd.Timestamp(day)
    last = first + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="event_id"),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=list(EVENT_TYPES)),
        gxe.ExpectColumnValuesToBeBetween(column="occurred_at", min_value=first, max_value=last),
        gxe.ExpectColumnValuesToBeInSet(
            column="sku",
            value_set=sorted(known_skus),
            mostly=1.0 - checks.max_unknown_event_sku_share,
            row_condition=Column("event_type").is_in(list(SKU_EVENT_TYPES)),
        ),
    ]


def validate_events(
    events: pd.DataFrame, day: date, known_skus: list[str], checks: DataChecks
) -> ValidationReport:
    """Run :func:`event_expectations` on one day's raw events.

    Args:
        events: The day's events as read (:data:`~forecasting.behaviour.events.EVENT_COLUMNS`).
        day: The shop day.
        known_skus: The catalogue's SKUs.
        checks: Thresholds.

    Returns:
        The report (``subject`` names the day); it never raises on bad data.
    """
    frame = events.loc[:, list(CHECKED_COLUMNS)]
    findings = validate_frame(
        frame, event_expectations(day, known_skus, checks), EVENTS_TABLE, _INDEX_COLUMNS
    )
    return ValidationReport(
        subject=f"web events of {day.isoformat()}",
        success=not any(not f.success and f.blocking for f in findings),
        tables={EVENTS_TABLE: len(frame)},
        findings=findings,
    )


def check_events(
    events: pd.DataFrame, day: date, known_skus: list[str], checks: DataChecks
) -> ValidationReport:
    """:func:`validate_events`, raising when a rule failed.

    Returns:
        The passing report.

    Raises:
        ValidationFailedError: Naming each failed rule, the table ``web_events`` and sample
            rows.
    """
    report = validate_events(events, day, known_skus, checks)
    if not report.success:
        raise ValidationFailedError(report)
    return report
