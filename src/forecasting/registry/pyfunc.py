"""Every forecaster is served the same way: as an MLflow pyfunc model.

The model's input is the long panel frame (:data:`forecasting.schema.MODEL_INPUT_COLUMNS`):
history rows with ``y`` and future rows without it (covariates only), one row per series
and day, with the series' SKU and location; the ``horizon`` is an inference parameter. Its
output is the forecast frame (:data:`forecasting.models.base.FORECAST_COLUMNS`). Scoring
in the DAG, the CLI and any ``mlflow models serve`` endpoint therefore run the same code
for scikit-learn, Keras and ensemble models alike.

The model is deployable on its own, as MLflow users expect: it carries this package's
code (``code_paths``) and pins exactly the libraries it needs (Keras and TensorFlow only
when it contains a network), so
``mlflow.pyfunc.load_model("models:/demand_forecast@champion")`` works in a fresh
virtualenv built from the model's own ``requirements.txt``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc.model import PythonModel

from forecasting.features.panel import Panel
from forecasting.lifecycle.pyfunc import RUNTIME_PACKAGES, log_pyfunc_model, pinned_requirements
from forecasting.models.base import Forecaster, load_forecaster
from forecasting.schema import MODEL_INPUT_COLUMNS

__all__ = [
    "ForecasterModel",
    "log_forecaster",
    "model_input_to_panel",
    "model_requirements",
    "panel_to_model_input",
]

log = logging.getLogger(__name__)


def panel_to_model_input(
    panel: Panel, series: np.ndarray | None = None, last_days: int | None = None
) -> pd.DataFrame:
    """The pyfunc input for a panel (optionally some series / only the last days).

    History rows whose demand is unknown (excluded days, days before a series started) are
    left out: the panel rebuilt from the input treats missing days as unknown too. Only
    the kept rows are materialised (a 5,000-series shard has millions of cells).
    """
    sub = panel if series is None else panel.subset(series)
    n_series, n_days = sub.y.shape
    y = sub.y.ravel()
    day = np.tile(np.arange(n_days), n_series)
    keep = ~np.isnan(y) | (day >= sub.n_history)
    if last_days is not None:
        keep &= day >= sub.n_history - last_days
    rows = np.flatnonzero(keep)
    of_series, day = rows // n_days, day[rows]
    cal = sub.calendar[["is_holiday", "is_shopping_day"]].astype(bool)
    columns = {
        "unique_id": sub.ids["unique_id"].to_numpy()[of_series],
        "sku": sub.ids["sku"].astype(str).to_numpy()[of_series],
        "location_id": sub.ids["location_id"].astype(str).to_numpy()[of_series],
        "ds": sub.dates.to_numpy()[day],
        "y": y[rows],
        "price": sub.price.ravel()[rows],
        "promo_discount": sub.promo.ravel()[rows],
        "is_holiday": cal["is_holiday"].to_numpy()[day],
        "is_shopping_day": cal["is_shopping_day"].to_numpy()[day],
    }
    return pd.DataFrame({c: columns[c] for c in MODEL_INPUT_COLUMNS})


def model_input_to_panel(frame: pd.DataFrame) -> Panel:
    """Inverse of :func:`panel_to_model_input`: rows without ``y`` are the future."""
    missing = set(MODEL_INPUT_COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"model input lacks columns {sorted(missing)}")
    frame = frame.assign(ds=pd.to_datetime(frame["ds"]))
    known = frame["y"].notna()
    days = frame.drop_duplicates("ds")
    events = pd.concat(
        [
            pd.DataFrame(
                {"ds": days.loc[days["is_holiday"].astype(bool), "ds"], "kind": "holiday"}
            ),
            pd.DataFrame(
                {"ds": days.loc[days["is_shopping_day"].astype(bool), "ds"], "kind": "shopping"}
            ),
        ],
        ignore_index=True,
    )
    history = frame.loc[
        known, ["unique_id", "sku", "location_id", "ds", "y", "price", "promo_discount"]
    ]
    future = frame.loc[~known, ["unique_id", "ds", "price", "promo_discount"]]
    return Panel.from_long(history, future, events)


class ForecasterModel(PythonModel):
    """pyfunc wrapper: ``predict(model_input, params={"horizon": h})`` -> forecast frame."""

    def load_context(self, context: Any) -> None:
        """Load the forecaster saved in the model's ``forecaster`` artifact."""
        self.forecaster = load_forecaster(context.artifacts["forecaster"])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Forecast every series in ``model_input`` for ``params["horizon"]`` days."""
        horizon = int((params or {}).get("horizon", 28))
        return self.forecaster.predict(model_input_to_panel(model_input), horizon)


def _keras_networks(model: Forecaster, prefix: str = "") -> list[tuple[str, Any]]:
    """Keras networks inside a (possibly wrapped, sharded or ensembled) forecaster."""
    found: list[tuple[str, Any]] = []
    if hasattr(model, "network_"):
        found.append((prefix or model.family, model.network_))
    inner = getattr(model, "forecaster", None)
    if isinstance(inner, Forecaster):
        found += _keras_networks(inner, prefix)
    for k, member in enumerate(getattr(model, "members", None) or []):
        name, member = member if isinstance(member, tuple) else (f"shard{k}", member)
        found += _keras_networks(member, f"{prefix}_{name}" if prefix else name)
    return found


#: What a model with a Keras network needs in addition to the runtime packages.
_KERAS_PACKAGES = ("keras", "tensorflow-cpu", "tensorflow")


def model_requirements(model: Forecaster) -> list[str]:
    """Exact pins of the libraries the model needs to predict (not Airflow, GX or SQL)."""
    wanted = list(RUNTIME_PACKAGES)
    if _keras_networks(model):
        wanted += _KERAS_PACKAGES
    return pinned_requirements(wanted)


def log_forecaster(model: Forecaster, panel: Panel, horizon: int, name: str = "model") -> str:
    """Log a fitted forecaster to the active run as a pyfunc model
    (:func:`forecasting.lifecycle.pyfunc.log_pyfunc_model`); Keras networks inside it are
    also logged with MLflow's Keras flavour.

    Args:
        model: Fitted forecaster (a :class:`ShardedForecaster` in the pipeline).
        panel: Panel the example input is cut from.
        horizon: Default ``horizon`` parameter of the signature.
        name: Model name within the run.

    Returns:
        The logged model's URI.
    """
    requirements = model_requirements(model)
    # A small but complete example: two series with enough history for every feature.
    example_series = np.arange(min(2, panel.n_series))
    example = panel_to_model_input(panel, example_series, last_days=400)
    output = model.predict(model_input_to_panel(example), horizon)

    def save(folder: Path) -> dict[str, str]:
        return {"forecaster": str(model.save(folder / "forecaster"))}

    uri = log_pyfunc_model(
        ForecasterModel(),
        name=name,
        save_artifacts=save,
        example=example,
        output=output,
        params={"horizon": horizon},
        requirements=requirements,
    )
    for net_name, network in _keras_networks(model):
        from mlflow import keras as mlflow_keras

        mlflow_keras.log_model(network, name=f"keras_{net_name}", pip_requirements=requirements)
    log.info("logged %s as %s", type(model).__name__, uri)
    return uri
