"""Publishing scored forecasts to the tables planners read."""

from forecasting.publishing.publish import PublishedRun, publish_forecasts, read_published

__all__ = ["PublishedRun", "publish_forecasts", "read_published"]
