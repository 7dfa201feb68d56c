"""The long frame's columns, declared once.

Every series is identified by ``unique_id`` (``sku@location_id``) and lives in one long
frame: a row per series and day ``ds`` (mlforecast's ``unique_id, ds, y``), with the
covariates beside it. Extraction writes :data:`EXTRACT_COLUMNS` and
:data:`FUTURE_COLUMNS`, the registered model reads :data:`MODEL_INPUT_COLUMNS`, scoring
writes :data:`FORECAST_COLUMNS`; every module that names these columns imports them here.
"""

from __future__ import annotations

__all__ = [
    "CALENDAR_COLUMNS",
    "EXTRACT_COLUMNS",
    "FORECAST_COLUMNS",
    "FUTURE_COLUMNS",
    "MODEL_INPUT_COLUMNS",
    "QUANTILE_COLUMNS",
    "SEPARATOR",
    "SERIES_KEYS",
]

#: A series' id and the two keys it joins (``unique_id == sku + SEPARATOR + location_id``).
SERIES_KEYS = ("unique_id", "sku", "location_id")
#: Joins SKU and location into a series id.
SEPARATOR = "@"
#: Columns of the extract's ``demand.parquet``, in order: demand ``y`` (NaN on days excluded
#: from training) and the covariates known for past days.
EXTRACT_COLUMNS = (*SERIES_KEYS, "ds", "y", "price", "promo_discount", "excluded")
#: Columns of the extract's ``future.parquet``, in order: covariates of the horizon's days.
FUTURE_COLUMNS = (*SERIES_KEYS, "ds", "price", "promo_discount")
#: Calendar flags the panel adds to every day.
CALENDAR_COLUMNS = ("is_holiday", "is_shopping_day")
#: The registered model's input (its MLflow signature): history and future rows in one frame.
MODEL_INPUT_COLUMNS = (*SERIES_KEYS, "ds", "y", "price", "promo_discount", *CALENDAR_COLUMNS)
#: The forecast's quantiles, lowest first.
QUANTILE_COLUMNS = ("p10", "p50", "p90")
#: Columns of a scored forecast, in order (one row per series and day of the horizon).
FORECAST_COLUMNS = (*SERIES_KEYS, "ds", "horizon", "forecast", *QUANTILE_COLUMNS)
