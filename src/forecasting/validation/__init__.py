"""Data validation: Great Expectations suites per shard, catalogue-level checks, and the
report both produce. Validation returns findings; the pipeline turns failures into
:class:`ValidationFailedError`, which stops the run before training and publishing."""

from forecasting.validation.checks import catalogue_checks, daily_units
from forecasting.validation.shard import validate_shard
from forecasting.validation.suite import (
    Finding,
    ValidationFailedError,
    ValidationReport,
    catalogue_price_expectations,
    catalogue_text_expectations,
    demand_expectations,
    future_expectations,
    key_expectations,
    review_expectations,
    validate_frame,
)

__all__ = [
    "Finding",
    "ValidationFailedError",
    "ValidationReport",
    "catalogue_checks",
    "catalogue_price_expectations",
    "catalogue_text_expectations",
    "daily_units",
    "demand_expectations",
    "future_expectations",
    "key_expectations",
    "review_expectations",
    "validate_frame",
    "validate_shard",
]
