"""Extraction: SQL from ``include/sql/extract`` into a parquet partition per logical date."""

from forecasting.extraction.extract import (
    EXTRACT_COLUMNS,
    ExtractResult,
    ExtractWindow,
    extract_partition,
    read_partition,
)

__all__ = [
    "EXTRACT_COLUMNS",
    "ExtractResult",
    "ExtractWindow",
    "extract_partition",
    "read_partition",
]
