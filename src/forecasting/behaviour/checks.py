"""Great Expectations checks of raw web events (a batch of shop days), before cleaning.

Rules (table ``web_events``), every one blocking:

* ``event_id`` is never missing;
* ``event_type`` is one of :data:`~forecasting.behaviour.events.EVENT_TYPES`;
* ``occurred_at`` (shop time) lies inside the days that were read (a wrong timezone
  setting or a broken conversion shows here);
* of the ``view``, ``cart_add`` and ``wishlist`` events with a SKU, at least
  ``1 - DataChecks.max_unknown_event_sku_share`` (95 % by default) name a SKU the
  catalogue knows: a few events of retired or not yet listed products are normal, a log
  whose SKUs the catalogue does not know is not. The rule reads ``known_sku``, a column
  added here from the catalogue (GX would otherwise copy and serialise a value set of tens
  of thousands of SKUs for every batch: 8 of 16 seconds for a day of the scale shop).

The event store checks its days in batches of about :data:`BATCH_ROWS` events (one GX
validation has a fixed cost of about a third of a second; a day of a small shop holds a few
thousand events).

A failure stops the event sync before anything of the batch's month is written, with
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
    "BATCH_ROWS",
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
#: Columns that identify a sample row (with the SKU, so an unknown one is shown).
_INDEX_COLUMNS = ("event_id", "occurred_at", "sku")
#: Events per GX validation in the event store (days are batched up to this many).
BATCH_ROWS = 1_000_000


def event_expectations(first_day: date, last_day: date, checks: DataChecks) -> list[Any]:
    """The suite for the raw events of shop days ``first_day`` .. ``last_day``.

    Args:
        first_day: First shop day the events were read for.
        last_day: Last shop day.
        checks: Thresholds (``max_unknown_event_sku_share``).
    """
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    first = pd.Timestamp(first_day)
    last = pd.Timestamp(last_day) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="event_id"),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=list(EVENT_TYPES)),
        gxe.ExpectColumnValuesToBeBetween(column="occurred_at", min_value=first, max_value=last),
        gxe.ExpectColumnValuesToBeInSet(
            column="known_sku",
            value_set=[True],
            mostly=1.0 - checks.max_unknown_event_sku_share,
            row_condition=Column("event_type").is_in(list(SKU_EVENT_TYPES)),
        ),
    ]


def validate_events(
    events: pd.DataFrame,
    first_day: date,
    last_day: date,
    known_skus: pd.Index,
    checks: DataChecks,
) -> ValidationReport:
    """Run :func:`event_expectations` on the raw events of some shop days.

    Args:
        events: The events as read (:data:`~forecasting.behaviour.events.EVENT_COLUMNS`).
        first_day: First shop day they were read for.
        last_day: Last shop day.
        known_skus: The catalogue's SKUs.
        checks: Thresholds.

    Returns:
        The report (``subject`` names the days); it never raises on bad data.
    """
    frame = events.loc[:, list(CHECKED_COLUMNS)]
    frame = frame.assign(known_sku=frame["sku"].isin(known_skus).to_numpy())
    findings = validate_frame(
        frame, event_expectations(first_day, last_day, checks), EVENTS_TABLE, _INDEX_COLUMNS
    )
    days = first_day.isoformat() + ("" if last_day == first_day else f"..{last_day.isoformat()}")
    return ValidationReport(
        subject=f"web events of {days}",
        success=not any(not f.success and f.blocking for f in findings),
        tables={EVENTS_TABLE: len(frame)},
        findings=findings,
    )


def check_events(
    events: pd.DataFrame,
    first_day: date,
    last_day: date,
    known_skus: pd.Index,
    checks: DataChecks,
) -> ValidationReport:
    """:func:`validate_events`, raising when a rule failed.

    Returns:
        The passing report.

    Raises:
        ValidationFailedError: Naming each failed rule, the table ``web_events`` and sample
            rows.
    """
    report = validate_events(events, first_day, last_day, known_skus, checks)
    if not report.success:
        raise ValidationFailedError(report)
    return report
