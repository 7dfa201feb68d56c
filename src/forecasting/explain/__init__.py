"""Explanations that add up: why each forecast says what it says, and why it changed.

Model-agnostic (it only re-scores panels), exact (Shapley values over a handful of input
groups, all ``2 ** K`` coalitions scored) and additive: the driver rows of a series and
horizon bucket sum to the published forecast over the bucket, and the change rows of a
series to the change of its total since the previous run. See ``docs/explanations.md``.
"""

from forecasting.explain.changes import CHANGE_COLUMNS, NEW_DATA, NEW_MODEL, explain_change
from forecasting.explain.describe import describe_drivers
from forecasting.explain.drivers import (
    DRIVER_COLUMNS,
    HORIZON_BUCKETS,
    Predict,
    bucket_of,
    bucket_totals,
    explain_forecasts,
    forecaster_predictor,
    horizon_buckets,
    pyfunc_predictor,
)
from forecasting.explain.groups import (
    GROUP_LABELS,
    INPUT_GROUPS,
    MAX_GROUPS,
    MODEL,
    MODEL_BASELINE,
    REFERENCE,
    REFERENCE_DAYS,
    InputGroup,
    applicable_groups,
    reference_level,
    reference_panel,
)
from forecasting.explain.shapley import ShapleyResult, shapley_values

__all__ = [
    "CHANGE_COLUMNS",
    "DRIVER_COLUMNS",
    "GROUP_LABELS",
    "HORIZON_BUCKETS",
    "INPUT_GROUPS",
    "MAX_GROUPS",
    "MODEL",
    "MODEL_BASELINE",
    "NEW_DATA",
    "NEW_MODEL",
    "REFERENCE",
    "REFERENCE_DAYS",
    "InputGroup",
    "Predict",
    "ShapleyResult",
    "applicable_groups",
    "bucket_of",
    "bucket_totals",
    "describe_drivers",
    "explain_change",
    "explain_forecasts",
    "forecaster_predictor",
    "horizon_buckets",
    "pyfunc_predictor",
    "reference_level",
    "reference_panel",
    "shapley_values",
]
