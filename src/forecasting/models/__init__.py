"""Forecasting models. Each follows the contract in :mod:`forecasting.models.base`.

Heavy modules (TensorFlow in :mod:`forecasting.models.neural`) are imported on use.
"""

from forecasting.models.base import FORECAST_COLUMNS, Forecaster, Prediction, load_forecaster
from forecasting.models.calibrated import CalibratedForecaster
from forecasting.models.zoo import MODEL_NAMES, make_model

__all__ = [
    "FORECAST_COLUMNS",
    "MODEL_NAMES",
    "CalibratedForecaster",
    "Forecaster",
    "Prediction",
    "load_forecaster",
    "make_model",
]
