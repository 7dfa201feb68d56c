"""The customer models, served as MLflow pyfunc models like the demand forecast.

Input: customer lines (:data:`~forecasting.customers.features.LINE_COLUMNS`, pseudonymous
customers); the ``cutoff`` parameter is the last day the model may look at. Output: per
customer ``probability`` and ``expected_orders`` (propensity) or the top 10 ``rank, sku,
score`` (recommendations). The model carries this package's code and pins what it needs,
so ``mlflow.pyfunc.load_model("models:/customer_propensity@champion")`` works on its own.
A recommender fitted with the catalogue's text model (content scores, discovery slots)
carries it as its own artifact, ``text_model`` (:meth:`TextEmbedding.save
<forecasting.text.embedding.TextEmbedding.save>`), beside the pickled recommender.

Web events are too many to travel as model input: the ``events`` parameter is the path of
a parquet file of :data:`~forecasting.behaviour.events.CUSTOMER_COLUMNS` (the customer
extract's), read by a model that uses them (browsing features, session and sequence
candidates); empty: none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import pickle
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.pyfunc.model import PythonModel

from forecasting.customers.features import LINE_COLUMNS
from forecasting.lifecycle.pyfunc import RUNTIME_PACKAGES, log_pyfunc_model, pinned_requirements

__all__ = ["CustomerModel", "example_lines", "log_customer_model", "read_events"]

log = logging.getLogger(__name__)

#: What a customer model needs beyond the runtime packages, by its name.
_EXTRA = {
    "mlp": ("keras", "tensorflow-cpu", "tensorflow"),
    "bgnbd": ("lifetimes", "autograd", "dill"),
    "als": ("implicit",),
    "blend": ("implicit",),
    "sequence": ("keras", "tensorflow-cpu", "tensorflow"),
}


class CustomerModel(PythonModel):
    """pyfunc wrapper of a fitted propensity model or recommender."""

    def load_context(self, context: Any) -> None:
        """Unpickle the fitted model from the ``model`` artifact (and give a recommender
        back its text model, the ``text_model`` artifact, when it has one)."""
        with open(context.artifacts["model"], "rb") as handle:
            self.model = pickle.load(handle)
        if "text_model" in context.artifacts:
            from forecasting.text.embedding import TextEmbedding

            self.model.text = TextEmbedding.load(context.artifacts["text_model"])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Score every customer in ``model_input`` as of ``params["cutoff"]`` (default:
        the last day in the input), with the web events in the parquet file
        ``params["events"]`` (default: none)."""
        lines = model_input.loc[:, list(LINE_COLUMNS)].copy()
        lines["ds"] = pd.to_datetime(lines["ds"])
        cutoff = (params or {}).get("cutoff") or lines["ds"].max()
        cutoff = pd.Timestamp(cutoff)
        events = read_events((params or {}).get("events") or "")
        if hasattr(self.model, "recommend"):
            return self.model.recommend(lines, cutoff, events=events).reset_index(drop=True)
        return self.model.predict(lines, cutoff.date(), events).reset_index()


def read_events(path: str) -> pd.DataFrame | None:
    """The web events a model's ``events`` parameter names (``None`` for ``""``)."""
    if not path:
        return None
    events = pd.read_parquet(path)
    events["ds"] = pd.to_datetime(events["ds"])
    return events


def example_lines(lines: pd.DataFrame, customers: int = 8) -> pd.DataFrame:
    """A small, made-up input example: the shape and types of real input, and no row of
    any real customer (an example is stored with the model in MLflow, where an opt-out
    could not reach it).

    Invented customers with 1 to 6 orders each, spread over the data's window (varied
    enough for every model to fit on it, BG/NBD included), buying the shop's most sold
    SKUs (catalogue facts, not a person's) at their median price.
    """
    top = lines.groupby(["sku", "category"], observed=True)["quantity"].sum()
    top = top.sort_values(ascending=False).head(3).reset_index()
    first, last = pd.Timestamp(lines["ds"].min()), pd.Timestamp(lines["ds"].max())
    span = max((last - first).days, 1)
    price = float(lines["unit_price"].median()) if len(lines) else 1.0
    rows = []
    for i in range(customers):
        pseudonym = hashlib.sha256(f"example-{i}".encode()).hexdigest()[:32]
        orders = (1, 3, 6, 2, 4, 1, 5, 2)[i % 8]
        start = first + pd.Timedelta(days=span * (i % 4) // 8)
        gap = max((last - start).days // (orders + i % 3), 1)
        for j in range(orders):
            item = top.iloc[(i + j) % len(top)] if len(top) else None
            rows.append(
                {
                    "customer": pseudonym,
                    "order": f"{i}-{j}",
                    "ds": (start + pd.Timedelta(days=gap * j)).normalize(),
                    "sku": item["sku"] if item is not None else "SKU",
                    "category": item["category"] if item is not None else "category",
                    "quantity": 1 + (i + j) % 3,
                    "unit_price": price,
                    "cancelled": False,
                }
            )
    example = pd.DataFrame(rows, columns=list(lines.columns))
    return example.astype(lines.dtypes.to_dict())


def _extra(model: Any) -> tuple[str, ...]:
    """Packages a fitted model needs beyond the runtime ones (a blend: its parts')."""
    names = {getattr(model, "name", "")}
    if hasattr(model, "needs"):
        names |= model.needs()
    return tuple(sorted({p for n in names for p in _EXTRA.get(n, ())}))


def log_customer_model(model: Any, name: str, lines: pd.DataFrame, cutoff: str) -> str:
    """Log a fitted customer model to the active run as a pyfunc model
    (:func:`forecasting.lifecycle.pyfunc.log_pyfunc_model`) with a pseudonymous, made-up
    input example (:func:`example_lines`).

    Returns:
        The logged model's URI.
    """
    example = example_lines(lines)
    output = CustomerModel()
    output.model = model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        prediction = output.predict(None, example, {"cutoff": cutoff})

    def save(folder: Path) -> dict[str, str]:
        path = folder / "model.pkl"
        text = getattr(model, "text", None)
        if text is None:
            path.write_bytes(pickle.dumps(model))
            return {"model": str(path)}
        # The text model is an artifact of its own (inspectable, reusable); the pickled
        # recommender keeps the item embeddings and similarities it scores with.
        path.write_bytes(pickle.dumps(dataclasses.replace(model, text=None)))
        return {"model": str(path), "text_model": str(text.save(folder / "text_model.joblib"))}

    uri = log_pyfunc_model(
        CustomerModel(),
        name=name,
        save_artifacts=save,
        example=example,
        output=prediction,
        params={"cutoff": cutoff, "events": ""},
        requirements=pinned_requirements((*RUNTIME_PACKAGES, *_extra(model))),
    )
    log.info("logged %s %s as %s", name, getattr(model, "name", ""), uri)
    return uri
