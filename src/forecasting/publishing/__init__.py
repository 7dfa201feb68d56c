"""Publishing scored forecasts and customer scores to the tables planners and marketing
read (each publication one transaction: :mod:`forecasting.lifecycle.publish`)."""

from forecasting.publishing.customers import publish_customers, read_customer_tables
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
    "publish_customers",
    "publish_forecasts",
    "read_customer_tables",
    "read_leadtime",
    "read_published",
]
