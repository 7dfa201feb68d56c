"""Feature building: the panel, the declared feature spec and direct multi-horizon rows."""

from forecasting.features.direct import (
    FeatureMatrix,
    Rows,
    build_features,
    scoring_rows,
    training_rows,
)
from forecasting.features.panel import CALENDAR_COLUMNS, Panel, calendar_features
from forecasting.features.spec import FeatureSpec

__all__ = [
    "CALENDAR_COLUMNS",
    "FeatureMatrix",
    "FeatureSpec",
    "Panel",
    "Rows",
    "build_features",
    "calendar_features",
    "scoring_rows",
    "training_rows",
]
