"""Great Expectations suites for a shard's extract, and the report they produce.

Validation *returns findings* (:class:`ValidationReport`); the pipeline turns a failed
report into :class:`ValidationFailedError`, which stops the run before training and
publishing. A finding names the rule, the table and up to five sample rows. Findings of
``warning`` severity are reported but do not stop the run.

Tables validated per shard:

* ``demand`` -- the history (:func:`demand_expectations`);
* ``future`` -- the covariates of the horizon (:func:`future_expectations`): every series
  and horizon day present, prices > 0, discounts in [0, 1);
* ``catalogue_prices`` -- each SKU's list price against what customers paid
  (:func:`catalogue_price_expectations`);
* ``catalogue`` -- the products' text and launch dates (:func:`catalogue_text_expectations`;
  the same catalogue is in every shard, so shard 0 checks it);
* ``reviews`` -- the optional ``product_reviews`` (:func:`review_expectations`; only when
  the shard has reviews).

GX is imported lazily (about 3 s) and used through an ephemeral context: nothing is
written to a GX project folder.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from forecasting.config import DataChecks
from forecasting.errors import NonRetryableError
from forecasting.extraction.window import ExtractWindow

__all__ = [
    "Finding",
    "ValidationFailedError",
    "ValidationReport",
    "catalogue_price_expectations",
    "catalogue_text_expectations",
    "demand_expectations",
    "future_expectations",
    "key_expectations",
    "review_expectations",
    "validate_frame",
]

log = logging.getLogger(__name__)

KEY_COLUMNS = ("unique_id", "ds")
SAMPLE_ROWS = 5
#: Surrounding whitespace in a key (``"ABC "``): published verbatim, reported as a warning.
_PADDED = r"^\s|\s$"
#: Longest product name (the source's ``VARCHAR(255)``) and description the text model reads.
MAX_NAME_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 10_000
#: Launch dates before this are not plausible (a default or a typo such as 0024-05-01).
EARLIEST_LAUNCH = pd.Timestamp("1990-01-01")
#: Launch dates are plausible up to this many days after the run's day (planned launches).
MAX_LAUNCH_DAYS_AHEAD = 366
#: Longest review title (``VARCHAR(255)``) and body.
MAX_REVIEW_TITLE_LENGTH = 255
MAX_REVIEW_BODY_LENGTH = 20_000
#: Share of reviews whose SKU the catalogue knows, at least (a few of retired products).
MIN_KNOWN_REVIEW_SKUS = 0.9


@dataclass(frozen=True)
class Finding:
    """The outcome of one rule.

    Attributes:
        expectation: The rule: a GX expectation type (``expect_column_values_to_be_between``)
            or one of the pipeline's own checks (``latest_day_volume`` ...).
        kwargs: Its arguments (column, bounds ...), as strings.
        success: Whether the data met it.
        table: The table (and file) it was checked on.
        blocking: ``False`` for warnings, which are reported but do not stop the run.
        unexpected_count: Rows that broke it (for row-level rules).
        sample_rows: Up to five offending rows (key columns and the offending value).
        observed: The observed value for table-level rules.
    """

    expectation: str
    kwargs: dict[str, str]
    success: bool
    table: str = ""
    blocking: bool = True
    unexpected_count: int | None = None
    sample_rows: list[dict[str, str]] = field(default_factory=list)
    observed: str | None = None

    def describe(self) -> str:
        """One line a person can act on."""
        args = ", ".join(f"{k}={v}" for k, v in self.kwargs.items())
        text = f"{self.expectation}({args})"
        if self.unexpected_count is not None:
            text += f": {self.unexpected_count} rows unexpected"
        if self.observed is not None:
            text += f": observed {self.observed}"
        if self.sample_rows:
            text += f"; sample rows: {self.sample_rows}"
        return text


@dataclass(frozen=True)
class ValidationReport:
    """Findings of one validation.

    Attributes:
        subject: What was validated (e.g. ``extract shard=0-of-2 for 2024-06-30``).
        success: True if every blocking rule held.
        tables: Rows validated per table.
        findings: One per rule.
    """

    subject: str
    success: bool
    tables: dict[str, int]
    findings: list[Finding]

    @property
    def failures(self) -> list[Finding]:
        """Blocking findings that failed."""
        return [f for f in self.findings if not f.success and f.blocking]

    @property
    def warnings(self) -> list[Finding]:
        """Non-blocking findings that failed."""
        return [f for f in self.findings if not f.success and not f.blocking]

    @property
    def row_count(self) -> int:
        """Rows validated, all tables together."""
        return sum(self.tables.values())

    def summary(self) -> str:
        """Multi-line summary naming each failed rule, its table and sample rows."""
        passed = sum(1 for f in self.findings if f.success or not f.blocking)
        head = (
            f"Validation of {self.subject}: {passed}/{len(self.findings)} rules passed on "
            + ", ".join(f"table {t} ({n} rows)" for t, n in self.tables.items())
            + "."
        )
        lines = [head]
        lines += [f"  FAILED on table {f.table}: {f.describe()}" for f in self.failures]
        lines += [f"  WARNING on table {f.table}: {f.describe()}" for f in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def combine(cls, subject: str, reports: list[ValidationReport]) -> ValidationReport:
        """One report over several (e.g. every shard's)."""
        tables: dict[str, int] = {}
        for r in reports:
            for t, n in r.tables.items():
                tables[t] = tables.get(t, 0) + n
        return cls(
            subject,
            all(r.success for r in reports),
            tables,
            [f for r in reports for f in r.findings],
        )

    def to_json(self) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=2, default=str)


class ValidationFailedError(NonRetryableError):
    """Raised by the pipeline when a report failed; the message is the report summary."""

    def __init__(self, report: ValidationReport, report_uri: str | None = None) -> None:
        self.report = report
        self.report_uri = report_uri
        suffix = f"\nFull report: {report_uri}" if report_uri else ""
        super().__init__(report.summary() + suffix)


def demand_expectations(
    window: ExtractWindow, columns: tuple[str, ...], checks: DataChecks
) -> list[Any]:
    """The expectation suite for ``demand.parquet`` of one window.

    Rules: exact column list (schema drift), keys and values not null (``y`` may be empty
    only on days excluded with a reason), one row per series and day, quantities
    non-negative, dates inside the window, prices positive, discounts in [0, 1), and at
    most 200 million rows. The keys' own rules are :func:`key_expectations`.
    """
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    start, last = pd.Timestamp(window.start), pd.Timestamp(window.last_day)
    return [
        gxe.ExpectTableColumnsToMatchOrderedList(column_list=list(columns)),
        # A shard may be empty (a small catalogue in many shards); the catalogue check
        # ``demand_present`` stops a run whose shards are all empty.
        gxe.ExpectTableRowCountToBeBetween(min_value=0, max_value=200_000_000),
        *[
            gxe.ExpectColumnValuesToNotBeNull(column=c)
            for c in ("unique_id", "sku", "location_id", "ds", "price")
        ],
        gxe.ExpectColumnValuesToNotBeNull(column="y", row_condition=Column("excluded").is_null()),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=list(KEY_COLUMNS)),
        gxe.ExpectColumnValuesToBeBetween(column="y", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="ds", min_value=start, max_value=last),
        gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(
            column="promo_discount", min_value=0, max_value=1, strict_max=True
        ),
    ]


def key_expectations(checks: DataChecks) -> list[Any]:
    """The suite for the distinct ``sku, location_id`` keys of ``demand.parquet``: keys no
    longer than the published columns (and not empty); keys with surrounding whitespace are
    a warning (they are published verbatim).

    String rules run on the distinct keys, not on every row: at 5,000 series a year the
    rows repeat each key 365 times, and these were most of a shard's validation time.
    """
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    return [
        *[
            gxe.ExpectColumnValueLengthsToBeBetween(
                column=c, min_value=1, max_value=checks.max_key_length
            )
            for c in ("sku", "location_id")
        ],
        *[
            gxe.ExpectColumnValuesToNotMatchRegex(
                column=c, regex=_PADDED, severity=FailureSeverity.WARNING
            )
            for c in ("sku", "location_id")
        ],
    ]


def future_expectations(window: ExtractWindow, series: int, horizon: int) -> list[Any]:
    """The suite for ``future.parquet``: every series and horizon day, valid covariates."""
    import great_expectations.expectations as gxe

    first, last = pd.Timestamp(window.end), pd.Timestamp(window.horizon_end) - pd.Timedelta(days=1)
    return [
        gxe.ExpectTableRowCountToEqual(value=series * horizon),
        *[
            gxe.ExpectColumnValuesToNotBeNull(column=c)
            for c in ("unique_id", "ds", "price", "promo_discount")
        ],
        gxe.ExpectCompoundColumnsToBeUnique(column_list=list(KEY_COLUMNS)),
        gxe.ExpectColumnValuesToBeBetween(column="ds", min_value=first, max_value=last),
        gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(
            column="promo_discount", min_value=0, max_value=1, strict_max=True
        ),
    ]


def catalogue_price_expectations(checks: DataChecks) -> list[Any]:
    """The suite for the ``catalogue_prices`` frame (``sku, list_price, avg_unit_price,
    price_ratio``): list prices positive and within ``max_price_ratio`` of what
    customers paid over the last 91 days."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeBetween(column="list_price", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(
            column="price_ratio",
            min_value=1.0 / checks.max_price_ratio,
            max_value=checks.max_price_ratio,
        ),
    ]


def catalogue_text_expectations(window: ExtractWindow) -> list[Any]:
    """The suite for the extract's ``catalogue`` (``sku, name, description, category,
    list_price, launched_on``): what the text model and the launch curves read.

    Rules: one row per SKU, a name of 1..:data:`MAX_NAME_LENGTH` characters, a description
    of at most :data:`MAX_DESCRIPTION_LENGTH` (it may be missing), and a plausible
    ``launched_on`` (may be missing): not before :data:`EARLIEST_LAUNCH`, not more than
    :data:`MAX_LAUNCH_DAYS_AHEAD` days after the run's day.
    """
    import great_expectations.expectations as gxe

    latest = pd.Timestamp(window.last_day) + pd.Timedelta(days=MAX_LAUNCH_DAYS_AHEAD)
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="sku"),
        gxe.ExpectColumnValuesToBeUnique(column="sku"),
        gxe.ExpectColumnValuesToNotBeNull(column="name"),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="name", min_value=1, max_value=MAX_NAME_LENGTH
        ),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="description", min_value=0, max_value=MAX_DESCRIPTION_LENGTH
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="launched_on", min_value=EARLIEST_LAUNCH, max_value=latest
        ),
    ]


def review_expectations(window: ExtractWindow, known_skus: list[str]) -> list[Any]:
    """The suite for the extract's ``reviews`` (:data:`~forecasting.extraction.REVIEW_COLUMNS`).

    Rules: exact column list, ids, SKU, rating and time present, one row per review id,
    ratings in 1..5, a title of at most :data:`MAX_REVIEW_TITLE_LENGTH` and a body of at
    most :data:`MAX_REVIEW_BODY_LENGTH` characters, ``created_at`` (shop time) inside the
    window's days (never after the run's day), and at least
    :data:`MIN_KNOWN_REVIEW_SKUS` of the reviews of SKUs the catalogue knows.

    Args:
        window: The run's window.
        known_skus: The catalogue's SKUs.
    """
    import great_expectations.expectations as gxe

    from forecasting.extraction.source import REVIEW_COLUMNS

    first = pd.Timestamp(window.start)
    last = pd.Timestamp(window.end) - pd.Timedelta(microseconds=1)
    return [
        gxe.ExpectTableColumnsToMatchOrderedList(column_list=list(REVIEW_COLUMNS)),
        *[
            gxe.ExpectColumnValuesToNotBeNull(column=c)
            for c in ("review_id", "sku", "rating", "created_at")
        ],
        gxe.ExpectColumnValuesToBeUnique(column="review_id"),
        gxe.ExpectColumnValuesToBeBetween(column="rating", min_value=1, max_value=5),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="title", min_value=0, max_value=MAX_REVIEW_TITLE_LENGTH
        ),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="body", min_value=0, max_value=MAX_REVIEW_BODY_LENGTH
        ),
        gxe.ExpectColumnValuesToBeBetween(column="created_at", min_value=first, max_value=last),
        gxe.ExpectColumnValuesToBeInSet(
            column="sku", value_set=sorted(known_skus), mostly=MIN_KNOWN_REVIEW_SKUS
        ),
    ]


def _short(value: Any) -> str:
    if isinstance(value, dict) and value.get("type") == "nullity":  # a GX row condition
        return f"{value['column']['name']} IS {'' if value.get('is_null') else 'NOT '}NULL"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return str(value)


def _finding(result: Any, table: str) -> Finding:
    config = result.expectation_config
    kwargs = {
        k: _short(v)
        for k, v in config.kwargs.items()
        if k not in ("batch_id", "result_format") and v is not None
    }
    res = result.result or {}
    samples = [
        {k: _short(v) for k, v in row.items()}
        for row in (res.get("partial_unexpected_index_list") or [])
    ]
    observed = res.get("observed_value")
    info = result.exception_info or {}
    # GX reports errors either flat or keyed by the metric that raised.
    errors = (
        [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    )
    messages = sorted(
        {str(e.get("exception_message")) for e in errors if e.get("raised_exception")}
    )
    if messages:
        observed = "error: " + "; ".join(messages)
    severity = str(getattr(getattr(config, "severity", None), "value", "critical"))
    return Finding(
        expectation=config.type,
        kwargs=kwargs,
        success=bool(result.success),
        table=table,
        blocking=severity == "critical",
        unexpected_count=res.get("unexpected_count"),
        sample_rows=samples[:SAMPLE_ROWS],
        observed=None if observed is None else _short(observed),
    )


def validate_frame(
    frame: pd.DataFrame,
    expectations: list[Any],
    table: str,
    index_columns: tuple[str, ...] = KEY_COLUMNS,
) -> list[Finding]:
    """Validate a DataFrame with Great Expectations.

    Args:
        frame: Data to validate.
        expectations: GX expectation objects (e.g. from :func:`demand_expectations`).
        table: Name used in findings and error messages (table and file).
        index_columns: Columns that identify a sample row.

    Returns:
        One finding per expectation (validation does not raise on bad data).
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    name = table.split()[0]
    batch_def = (
        context.data_sources.add_pandas("extract")
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=f"{name}_suite"))
    for expectation in expectations:
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="validate", data=batch_def, suite=suite)
    )
    result = definition.run(
        # GX locates sample rows by index: it must be unique.
        batch_parameters={"dataframe": frame.reset_index(drop=True)},
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": SAMPLE_ROWS,
            "unexpected_index_column_names": [c for c in index_columns if c in frame.columns],
        },
    )
    findings = sorted(
        (_finding(r, table) for r in result.results),
        key=lambda f: (f.success, not f.blocking, f.expectation),
    )
    failed = sum(1 for f in findings if not f.success and f.blocking)
    log.info("validation of %s: %s", table, "passed" if not failed else f"{failed} rules FAILED")
    return findings
