"""Data validation with Great Expectations 1.x, behind a thin module of our own."""

from forecasting.validation.suite import (
    Finding,
    ValidationFailedError,
    ValidationReport,
    demand_expectations,
    validate_frame,
    validate_partition,
)

__all__ = [
    "Finding",
    "ValidationFailedError",
    "ValidationReport",
    "demand_expectations",
    "validate_frame",
    "validate_partition",
]
