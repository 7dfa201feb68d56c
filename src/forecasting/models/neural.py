"""A TensorFlow/Keras global model: an MLP over the direct features with calendar and
horizon embeddings, trained with pinball loss for P10/P50/P90 and Poisson loss for the
point forecast.

TensorFlow is imported lazily (it costs seconds), so importing this module is cheap.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any, ClassVar

import joblib
import numpy as np

from forecasting.features.direct import FeatureMatrix
from forecasting.features.spec import FeatureSpec
from forecasting.models.base import Forecaster
from forecasting.models.direct import DirectForecaster
from forecasting.models.params import Constraint, Interval, PositiveInts

__all__ = ["MLPForecaster", "import_keras"]

log = logging.getLogger(__name__)

#: Integer features fed through embeddings: name -> number of categories.
_EMBEDDED = {"horizon": 367, "cal_dayofweek": 7, "cal_month": 13, "cal_dayofmonth": 32}
_NETWORK_FILE = "network.keras"
#: Standardised inputs are clipped to this many standard deviations.
_INPUT_CLIP = 10.0


def import_keras() -> Any:
    """Import Keras on TensorFlow, with TensorFlow's start-up lines off (the one place that
    sets them: ``TF_CPP_MIN_LOG_LEVEL=3`` and oneDNN's notice; op determinism is on while a
    network fits either way). The demand and the customer networks both come through here."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    return keras


def _build_network(
    n_numeric: int,
    embedded: list[tuple[str, int]],
    hidden: tuple[int, ...],
    dropout: float,
    seed: int,
) -> Any:
    keras = import_keras()
    from keras import layers

    numeric = keras.Input(shape=(n_numeric,), name="numeric")
    inputs = [numeric]
    parts = [numeric]
    for name, size in embedded:
        inp = keras.Input(shape=(1,), name=name, dtype="int32")
        inputs.append(inp)
        dim = min(8, (size + 1) // 2)
        emb = layers.Embedding(size, dim, name=f"{name}_embedding")(inp)
        parts.append(layers.Flatten()(emb))
    x = layers.Concatenate()(parts) if len(parts) > 1 else numeric
    init = keras.initializers.GlorotUniform(seed=seed)
    for i, units in enumerate(hidden):
        x = layers.Dense(units, activation="relu", kernel_initializer=init, name=f"dense_{i}")(x)
        if dropout > 0:
            x = layers.Dropout(dropout, seed=seed + i)(x)
    softplus = keras.activations.softplus
    point = layers.Dense(1, activation=softplus, name="point")(x)
    median = layers.Dense(1, activation=softplus, name="median")(x)
    down = layers.Dense(1, activation=softplus, name="down")(x)
    up = layers.Dense(1, activation=softplus, name="up")(x)
    # Non-crossing by construction: P10 = P50 - down, P90 = P50 + up.
    quantiles = layers.Concatenate(name="quantiles")(
        [layers.Subtract()([median, down]), median, layers.Add()([median, up])]
    )
    return keras.Model(inputs=inputs, outputs={"point": point, "quantiles": quantiles})


def _pinball_loss(y_true: Any, y_pred: Any) -> Any:
    keras = import_keras()
    ops = keras.ops
    levels = ops.convert_to_tensor([[0.1, 0.5, 0.9]], dtype=y_pred.dtype)
    diff = ops.reshape(ops.cast(y_true, y_pred.dtype), (-1, 1)) - y_pred
    return ops.mean(ops.maximum(levels * diff, (levels - 1.0) * diff), axis=-1)


class MLPForecaster(DirectForecaster):
    """Keras MLP over the direct features (see module docstring).

    Deterministic for a given ``random_state`` on CPU: seeds are fixed and TensorFlow's
    op determinism is enabled while fitting.

    Args:
        horizon, features, origin_stride, max_origins, max_rows, active_days,
        recency_halflife, random_state:
            See :class:`~forecasting.models.direct.DirectForecaster`.
        hidden: Units of the hidden layers.
        dropout: Dropout rate after each hidden layer.
        epochs: Passes over the training rows.
        batch_size: Rows per gradient step.
        learning_rate: Adam's initial learning rate (cosine-decayed to 10 %).
        target_clip: Normalised targets above this are clipped while training (robustness
            to one-off bulk orders).
    """

    family: ClassVar[str] = "mlp"
    param_constraints: ClassVar[dict[str, Constraint]] = {
        **DirectForecaster.param_constraints,
        "hidden": PositiveInts(),
        "dropout": Interval(float, 0, 1, high_open=True),
        "epochs": Interval(int, 1),
        "batch_size": Interval(int, 1),
        "learning_rate": Interval(float, 0, low_open=True),
        "target_clip": Interval(float, 0, low_open=True),
    }

    def __init__(
        self,
        horizon: int = 28,
        features: FeatureSpec | None = None,
        origin_stride: int = 3,
        max_origins: int = 120,
        max_rows: int | None = 600_000,
        active_days: int | None = None,
        recency_halflife: float | None = None,
        random_state: int = 42,
        hidden: tuple[int, ...] = (256, 128, 64),
        dropout: float = 0.1,
        epochs: int = 8,
        batch_size: int = 1024,
        learning_rate: float = 2e-3,
        target_clip: float = 50.0,
    ) -> None:
        self.horizon = horizon
        self.features = features
        self.origin_stride = origin_stride
        self.max_origins = max_origins
        self.max_rows = max_rows
        self.active_days = active_days
        self.recency_halflife = recency_halflife
        self.random_state = random_state
        self.hidden = hidden
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.target_clip = target_clip

    # ------------------------------------------------------------------ inputs
    def _inputs(self, fm: FeatureMatrix) -> dict[str, np.ndarray]:
        X = fm.X
        num = X[:, self.numeric_idx_]
        missing = np.isnan(num)
        num = np.where(missing, self.medians_, num)
        # Clipped: a value far outside what training saw (a feature constant in training, a
        # level never seen) must not drive the exponential point head to infinity.
        num = np.clip((num - self.means_) / self.stds_, -_INPUT_CLIP, _INPUT_CLIP)
        num = np.column_stack([num, missing[:, self.flag_idx_]]).astype("float32")
        out = {"numeric": num}
        for name, size in self.embedded_:
            col = np.nan_to_num(X[:, fm.names.index(name)], nan=0.0)
            out[name] = np.clip(col, 0, size - 1).astype("int32")[:, None]
        return out

    def _fit_matrix(self, fm: FeatureMatrix, target: np.ndarray, weight: np.ndarray | None) -> None:
        keras = import_keras()
        import tensorflow as tf

        self.embedded_ = [
            (n, s)
            for n, s in _EMBEDDED.items()
            if n in fm.names and (n != "horizon" or s > self.horizon)
        ]
        emb_names = {n for n, _ in self.embedded_}
        self.numeric_idx_ = [
            i for i, n in enumerate(fm.names) if n not in emb_names or n == "horizon"
        ]
        num = fm.X[:, self.numeric_idx_]
        with warnings.catch_warnings():  # features never known in a short history
            warnings.simplefilter("ignore", RuntimeWarning)
            self.medians_ = np.nan_to_num(np.nanmedian(num, axis=0)).astype("float32")
        self.flag_idx_ = np.flatnonzero(np.isnan(num).any(axis=0))
        filled = np.where(np.isnan(num), self.medians_, num)
        # Heavy-tailed ratios (e.g. lag / scale) are standardised robustly.
        self.means_ = filled.mean(axis=0).astype("float32")
        spread = filled.std(axis=0)
        # A feature constant in training keeps its unit scale (a 1e-3 floor would turn any
        # other value at prediction into thousands of standard deviations).
        self.stds_ = np.where(spread < 1e-6, 1.0, np.maximum(spread, 1e-3)).astype("float32")
        y = np.minimum(target, self.target_clip).astype("float32")

        keras.utils.set_random_seed(self.random_state)
        tf.config.experimental.enable_op_determinism()
        n_numeric = len(self.numeric_idx_) + len(self.flag_idx_)
        net = _build_network(
            n_numeric, self.embedded_, tuple(self.hidden), self.dropout, self.random_state
        )
        steps = max(1, int(np.ceil(len(y) / self.batch_size))) * self.epochs
        schedule = keras.optimizers.schedules.CosineDecay(self.learning_rate, steps, alpha=0.1)
        net.compile(
            optimizer=keras.optimizers.Adam(schedule),
            loss={"point": keras.losses.Poisson(), "quantiles": _pinball_loss},
            loss_weights={"point": 1.0, "quantiles": 2.0},
        )
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(y))
        inputs = {k: v[order] for k, v in self._inputs(fm).items()}
        targets = {"point": y[order], "quantiles": y[order]}
        weights = None if weight is None else {"point": weight[order], "quantiles": weight[order]}
        history = net.fit(
            inputs,
            targets,
            sample_weight=weights,
            epochs=self.epochs,
            batch_size=self.batch_size,
            shuffle=True,
            verbose=0,
        )
        self.loss_history_ = [float(v) for v in history.history["loss"]]
        log.info("MLP trained: loss %s", ", ".join(f"{v:.4f}" for v in self.loss_history_))
        self.network_ = net

    def _predict_matrix(self, fm: FeatureMatrix) -> np.ndarray:
        out = self.network_.predict(self._inputs(fm), batch_size=8192, verbose=0)
        return np.column_stack([np.asarray(out["point"])[:, 0], np.asarray(out["quantiles"])])

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | Path) -> Path:
        """Network as ``network.keras`` (Keras format), the rest with joblib."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        network = getattr(self, "network_", None)
        if network is not None:
            network.save(folder / _NETWORK_FILE)
            del self.network_
        try:
            super().save(folder)
        finally:
            if network is not None:
                self.network_ = network
        return folder

    @classmethod
    def _load(cls, folder: Path) -> Forecaster:
        model = joblib.load(folder / "forecaster.joblib")
        if (folder / _NETWORK_FILE).exists():
            keras = import_keras()
            model.network_ = keras.models.load_model(
                folder / _NETWORK_FILE,
                custom_objects={"_pinball_loss": _pinball_loss},
                compile=False,
            )
        return model
