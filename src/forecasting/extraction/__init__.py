"""Extraction: the source database into an incremental demand store, and each run's
per-shard extract (history, future covariates, events) on shared storage."""

from forecasting.extraction.assemble import assemble_extract
from forecasting.extraction.extract import (
    EXTRACT_COLUMNS,
    FUTURE_COLUMNS,
    ExtractResult,
    extract_all,
    read_catalog_snapshot,
    read_partition,
    write_catalog_snapshot,
    write_partition,
)
from forecasting.extraction.source import (
    REVIEW_COLUMNS,
    Catalog,
    SchemaDriftError,
    check_source_schema,
    empty_reviews,
    read_catalog,
    read_line_quality,
    read_reviews,
)
from forecasting.extraction.store import DemandStore, SyncResult
from forecasting.extraction.window import ExtractWindow

__all__ = [
    "EXTRACT_COLUMNS",
    "FUTURE_COLUMNS",
    "REVIEW_COLUMNS",
    "Catalog",
    "DemandStore",
    "ExtractResult",
    "ExtractWindow",
    "SchemaDriftError",
    "SyncResult",
    "assemble_extract",
    "check_source_schema",
    "empty_reviews",
    "extract_all",
    "read_catalog",
    "read_catalog_snapshot",
    "read_line_quality",
    "read_partition",
    "read_reviews",
    "write_catalog_snapshot",
    "write_partition",
]
