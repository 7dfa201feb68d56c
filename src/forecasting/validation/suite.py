"""The Great Expectations suite for the demand extract.

Validation *returns findings* (:class:`ValidationReport`); the pipeline turns a failed
report into :class:`ValidationFailedError`, which stops the run before training and
publishing. The report is written next to the data as ``validation.json`` so a person
can read what failed, and the training run logs it to MLflow.

GX is imported lazily (about 3 s) and used through an ephemeral context: nothing is
written to a GX project folder.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.errors import NonRetryableError

__all__ = [
    "Finding",
    "ValidationFailedError",
    "ValidationReport",
    "demand_expectations",
    "validate_frame",
    "validate_partition",
]

log = logging.getLogger(__name__)

KEY_COLUMNS = ("unique_id", "ds")
SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Finding:
    """The outcome of one expectation.

    Attributes:
        expectation: GX expectation type, e.g. ``expect_column_values_to_be_between``.
        kwargs: Its arguments (column, bounds ...), as strings.
        success: Whether the data met it.
        unexpected_count: Rows that broke it (if it is a row-level expectation).
        sample_rows: Up to five offending rows (key columns and the offending value).
        observed: GX's observed value for table-level expectations.
    """

    expectation: str
    kwargs: dict[str, str]
    success: bool
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
        table: What was validated (name and file).
        success: True if every expectation held.
        row_count: Rows validated.
        findings: One per expectation.
    """

    table: str
    success: bool
    row_count: int
    findings: list[Finding]

    @property
    def failures(self) -> list[Finding]:
        """Findings that failed."""
        return [f for f in self.findings if not f.success]

    def summary(self) -> str:
        """Multi-line summary naming the table, the failed expectations and sample rows."""
        head = (
            f"Validation of table {self.table}: {len(self.findings) - len(self.failures)}/"
            f"{len(self.findings)} expectations passed on {self.row_count} rows."
        )
        return "\n".join([head, *(f"  FAILED {f.describe()}" for f in self.failures)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    def write(self, path: str | Path) -> Path:
        """Write the report as JSON."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str))
        return path


class ValidationFailedError(NonRetryableError):
    """Raised by the pipeline when a report failed; the message is the report summary."""

    def __init__(self, report: ValidationReport, report_path: str | Path | None = None) -> None:
        self.report = report
        self.report_path = None if report_path is None else str(report_path)
        suffix = f"\nFull report: {report_path}" if report_path else ""
        super().__init__(report.summary() + suffix)


def demand_expectations(
    window_start: date,
    window_last_day: date,
    columns: tuple[str, ...],
    max_rows: int = 50_000_000,
) -> list[Any]:
    """The expectation suite for ``demand.parquet`` of one window.

    Rules: exact column list (schema drift), keys and values not null, one row per
    series and day, quantities non-negative, dates inside the window, prices positive,
    discounts in [0, 1), and a row count between one and ``max_rows``.
    """
    import great_expectations.expectations as gxe

    start, last = pd.Timestamp(window_start), pd.Timestamp(window_last_day)
    return [
        gxe.ExpectTableColumnsToMatchOrderedList(column_list=list(columns)),
        gxe.ExpectTableRowCountToBeBetween(min_value=1, max_value=max_rows),
        *[
            gxe.ExpectColumnValuesToNotBeNull(column=c)
            for c in ("unique_id", "sku", "location_id", "ds", "y", "price")
        ],
        gxe.ExpectCompoundColumnsToBeUnique(column_list=list(KEY_COLUMNS)),
        gxe.ExpectColumnValuesToBeBetween(column="y", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="ds", min_value=start, max_value=last),
        gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(
            column="promo_discount", min_value=0, max_value=1, strict_max=True
        ),
    ]


def _short(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return str(value)


def _finding(result: Any) -> Finding:
    config = result.expectation_config
    kwargs = {
        k: _short(v) for k, v in config.kwargs.items() if k not in ("batch_id", "result_format")
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
    return Finding(
        expectation=config.type,
        kwargs=kwargs,
        success=bool(result.success),
        unexpected_count=res.get("unexpected_count"),
        sample_rows=samples[:SAMPLE_ROWS],
        observed=None if observed is None else _short(observed),
    )


def validate_frame(frame: pd.DataFrame, expectations: list[Any], table: str) -> ValidationReport:
    """Validate a DataFrame with Great Expectations.

    Args:
        frame: Data to validate.
        expectations: GX expectation objects (e.g. from :func:`demand_expectations`).
        table: Name used in the report and error messages.

    Returns:
        The report (validation does not raise on bad data).
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_def = (
        context.data_sources.add_pandas("extract")
        .add_dataframe_asset(table.split()[0])
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=f"{table.split()[0]}_suite"))
    for expectation in expectations:
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="validate", data=batch_def, suite=suite)
    )
    index_cols = [c for c in KEY_COLUMNS if c in frame.columns]
    result = definition.run(
        # GX locates sample rows by index: it must be unique.
        batch_parameters={"dataframe": frame.reset_index(drop=True)},
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": SAMPLE_ROWS,
            "unexpected_index_column_names": index_cols,
        },
    )
    findings = sorted(
        (_finding(r) for r in result.results), key=lambda f: (f.success, f.expectation)
    )
    report = ValidationReport(
        table=table, success=bool(result.success), row_count=len(frame), findings=findings
    )
    log.info("validation of %s: %s", table, "passed" if report.success else "FAILED")
    return report


def validate_partition(
    extract_dir: str | Path, window_start: date, window_last_day: date, columns: tuple[str, ...]
) -> ValidationReport:
    """Validate ``demand.parquet`` of an extract partition and write ``validation.json``.

    Returns:
        The report; ``validation.json`` is written next to the data either way.
    """
    extract_dir = Path(extract_dir)
    frame = pd.read_parquet(extract_dir / "demand.parquet")
    report = validate_frame(
        frame,
        demand_expectations(window_start, window_last_day, columns),
        table=f"demand ({extract_dir / 'demand.parquet'})",
    )
    report.write(extract_dir / "validation.json")
    return report
