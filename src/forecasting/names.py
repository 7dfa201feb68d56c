"""Names shared by configuration, the model zoo, the metrics, the DAG and the benchmark:
candidate models and the metrics that can rank them. It imports nothing, so the DAG file
can read it at parse time."""

from __future__ import annotations

__all__ = [
    "BASELINE_MODEL",
    "CUSTOMER_PIPELINE",
    "DEFAULT_MODELS",
    "DEMAND_PIPELINE",
    "LAUNCH_MODEL_NAME",
    "LOWER_IS_BETTER",
    "MODEL_NAMES",
]

#: The daily demand pipeline: its DAG id, and the name its runs lease their dates under.
DEMAND_PIPELINE = "demand_forecast"
#: The daily customer models pipeline (DAG id and lease name).
CUSTOMER_PIPELINE = "customer_models"

#: The baseline every candidate must beat (same weekday last week).
BASELINE_MODEL = "seasonal_naive"
#: Candidate models of a daily run, by name in :mod:`forecasting.models.zoo`.
DEFAULT_MODELS: tuple[str, ...] = (
    BASELINE_MODEL,
    "linear",
    "linear_hurdle",
    "hgb",
    "mlp",
    "ensemble",
)
#: ``demand_forecast.model_name`` of new products' rows: forecast from their text
#: neighbours' and category's launch curves (:mod:`forecasting.text.launch`), not by the
#: registered model.
LAUNCH_MODEL_NAME = "launch_curve"
#: Every candidate name the pipeline and the benchmark understand: today all of them are in
#: the default line-up (a model left out of it would be added here).
MODEL_NAMES: tuple[str, ...] = DEFAULT_MODELS
#: Metrics where lower is better: the ones that may rank candidates and gate promotion.
LOWER_IS_BETTER = frozenset(
    {"rmsse", "mase", "wape", "spl", "spl_10", "spl_50", "spl_90", "abs_bias"}
)
