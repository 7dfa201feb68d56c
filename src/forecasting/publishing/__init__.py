"""Publishing scored forecasts to the tables planners read."""

from forecasting.publishing.publish import (
    FORECAST_TABLES,
    PublishedRun,
    PublishGuardError,
    ensure_forecast_tables,
    guard_against_shrinking,
    previous_runs,
    publish_forecasts,
    read_leadtime,
    read_published,
)

__all__ = [
    "FORECAST_TABLES",
    "PublishGuardError",
    "PublishedRun",
    "ensure_forecast_tables",
    "guard_against_shrinking",
    "previous_runs",
    "publish_forecasts",
    "read_leadtime",
    "read_published",
]
