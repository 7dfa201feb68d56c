"""The next purchase from a customer's last events: a small recurrent network.

Each customer's history is one time-ordered stream of tokens: their web events (view,
wishlist, cart add, cart remove; :data:`~forecasting.behaviour.events.CUSTOMER_COLUMNS`)
and their purchases, each a (product, kind) pair. Within a day a view comes before a cart
add and a cart add before a purchase (events only carry their day's last time and orders
their day). Every purchase is a training example: the :attr:`SequenceModel.length` tokens
before it are the input, its product the target. The network embeds the product and the
kind of each token, runs a GRU over them and ends in a softmax over the products it
knows; to score, it reads each customer's last tokens up to the cutoff.

It is trained on the shop's own data only (no downloaded weights), seeded, with op
determinism on while it fits (as :mod:`forecasting.models.neural`), small (an embedding of
:attr:`~SequenceModel.dim` and one GRU of the same width) and capped in examples, so it
fits in seconds on the demo shop. TensorFlow is imported inside the functions that need
it; the fitted weights are NumPy arrays, so the model pickles without TensorFlow.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecasting.customers.features import purchases

__all__ = ["KINDS", "SequenceModel", "event_tokens"]

log = logging.getLogger(__name__)

#: Token kinds, in their order within a day (0 is padding).
KINDS = ("view", "wishlist", "cart_add", "cart_remove", "purchase")


def event_tokens(
    lines: pd.DataFrame, events: pd.DataFrame | None, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """Every customer's purchases and web events up to ``cutoff`` (inclusive) as one
    stream: ``customer, sku, kind (1..len(KINDS)), ds``, ordered by customer, day, kind
    and time.

    Args:
        lines: Customer lines (:data:`~forecasting.customers.features.LINE_COLUMNS`).
        events: :data:`~forecasting.behaviour.events.CUSTOMER_COLUMNS` (``None``:
            purchases only).
        cutoff: The last day it may see.
    """
    cutoff = pd.Timestamp(cutoff)
    bought = purchases(lines.loc[lines["ds"] <= cutoff])
    bought = bought.groupby(["customer", "sku", "ds"], sort=False).size().reset_index()
    parts = [
        pd.DataFrame(
            {
                "customer": bought["customer"],
                "sku": bought["sku"],
                "kind": KINDS.index("purchase") + 1,
                "ds": pd.to_datetime(bought["ds"]),
                "at": pd.to_datetime(bought["ds"]) + pd.Timedelta(hours=23, minutes=59),
            }
        )
    ]
    if events is not None and len(events):
        seen = events.loc[(events["ds"] <= cutoff) & events["event_type"].isin(KINDS)]
        parts.append(
            pd.DataFrame(
                {
                    "customer": seen["customer"],
                    "sku": seen["sku"],
                    "kind": seen["event_type"].map(lambda k: KINDS.index(k) + 1),
                    "ds": pd.to_datetime(seen["ds"]),
                    "at": pd.to_datetime(seen["last_at"]),
                }
            )
        )
    stream = pd.concat(parts, ignore_index=True)
    stream["kind"] = stream["kind"].astype("int64")
    stream = stream.sort_values(["customer", "ds", "kind", "at", "sku"], ignore_index=True)
    return stream.loc[:, ["customer", "sku", "kind", "ds"]]


@dataclass
class SequenceModel:
    """Next purchased product from the last ``length`` tokens (see the module docstring).

    Attributes:
        length: Tokens the network reads (the last ones before a purchase).
        dim: Width of the embeddings and of the GRU.
        epochs: Training passes.
        max_examples: The latest purchases used as training examples (a cap on time: a
            fit of 43,000 took 200-365 s on the busy 2-core machine, and the blend's
            backtest fits it up to five times while the backtest gives it weight 0 on the
            generator; 10,000 keeps a fit under a minute).
        seed: Seed of the weights and the shuffling.
        items_: The products it scores (order of its softmax).
        weights_: The fitted network's weights (NumPy arrays).
        seconds_: Fitting time.
    """

    length: int = 10
    dim: int = 32
    epochs: int = 3
    max_examples: int = 10_000
    seed: int = 42
    items_: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    weights_: list[np.ndarray] | None = None
    seconds_: float = 0.0

    def _network(self) -> Any:
        from forecasting.models.neural import import_keras

        keras = import_keras()
        layers = keras.layers
        keras.utils.set_random_seed(self.seed)
        init = keras.initializers.GlorotUniform(seed=self.seed)
        n_items = len(self.items_)
        items = keras.Input(shape=(self.length,), dtype="int32", name="items")
        kinds = keras.Input(shape=(self.length,), dtype="int32", name="kinds")
        x = layers.Embedding(n_items + 1, self.dim, mask_zero=True, embeddings_initializer=init)(
            items
        )
        k = layers.Embedding(len(KINDS) + 1, 4, embeddings_initializer=init)(kinds)
        x = layers.Concatenate()([x, k])
        x = layers.GRU(self.dim, kernel_initializer=init, seed=self.seed, unroll=True)(x)
        out = layers.Dense(n_items, activation="softmax", kernel_initializer=init)(x)
        net = keras.Model([items, kinds], out)
        net.compile(
            optimizer=keras.optimizers.Adam(3e-3),
            loss="sparse_categorical_crossentropy",
            jit_compile=False,  # XLA's compile costs more than this small network's steps
        )
        return net

    def _codes(self, stream: pd.DataFrame) -> np.ndarray:
        """1-based product codes (0: a product it does not know)."""
        return pd.Index(self.items_).get_indexer(stream["sku"]) + 1

    def _windows(self, codes: np.ndarray, kinds: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Token windows (2, n, length) ending before each position in ``ends`` of one
        customer's stream, left-padded with 0."""
        out = np.zeros((2, len(ends), self.length), dtype=np.int32)
        for row, end in enumerate(ends):
            start = max(0, end - self.length)
            n = end - start
            if n:
                out[0, row, -n:] = codes[start:end]
                out[1, row, -n:] = kinds[start:end]
        return out

    def fit(
        self, lines: pd.DataFrame, events: pd.DataFrame | None, cutoff: pd.Timestamp
    ) -> SequenceModel:
        """Learn the next purchase from every customer's stream up to ``cutoff``.

        Args:
            lines: Customer lines.
            events: Their web events (``None``: purchases only).
            cutoff: The last day it may learn from.

        Returns:
            ``self``.
        """
        from forecasting.models.neural import import_keras

        started = time.perf_counter()
        stream = event_tokens(lines, events, cutoff)
        bought = stream.loc[stream["kind"] == KINDS.index("purchase") + 1]
        self.items_ = np.sort(bought["sku"].unique()).astype(object)
        codes = self._codes(stream)
        kinds = stream["kind"].to_numpy(np.int32)
        customer = stream["customer"].to_numpy()
        bounds = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1], True])
        is_purchase = kinds == KINDS.index("purchase") + 1
        # Examples: purchases with at least one earlier token of the same customer.
        windows, targets, when = [], [], []
        for a, b in itertools.pairwise(bounds):
            ends = np.flatnonzero(is_purchase[a:b])
            ends = ends[ends > 0]
            if not len(ends):
                continue
            windows.append(self._windows(codes[a:b], kinds[a:b], ends))
            targets.append(codes[a:b][ends] - 1)
            when.append(stream["ds"].to_numpy()[a:b][ends])
        if not windows or len(self.items_) < 2:
            self.weights_ = None
            return self
        x = np.concatenate(windows, axis=1)
        y = np.concatenate(targets).astype(np.int32)
        latest = np.argsort(np.concatenate(when), kind="stable")[-self.max_examples :]
        x, y = x[:, latest], y[latest]
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(y))
        x, y = x[:, order], y[order]

        import tensorflow as tf

        import_keras()
        tf.config.experimental.enable_op_determinism()
        net = self._network()
        history = net.fit(
            {"items": x[0], "kinds": x[1]},
            y,
            epochs=self.epochs,
            batch_size=256,
            shuffle=False,
            verbose=0,
        )
        self.weights_ = net.get_weights()
        self._net = net
        self.seconds_ = time.perf_counter() - started
        log.info(
            "sequence model: %d examples, %d products, loss %s (%.1fs)",
            len(y),
            len(self.items_),
            ", ".join(f"{v:.3f}" for v in history.history["loss"]),
            self.seconds_,
        )
        return self

    def scores(
        self,
        lines: pd.DataFrame,
        events: pd.DataFrame | None,
        cutoff: pd.Timestamp,
        customers: pd.Index,
        items: np.ndarray,
    ) -> np.ndarray:
        """Probability of each product (``items``) being the next purchase of each
        customer (``customers``) after their last tokens up to ``cutoff``.

        Returns:
            Customers x items (0 for products it does not know, and for everyone when it
            learnt nothing).
        """
        out = np.zeros((len(customers), len(items)), dtype=np.float32)
        if self.weights_ is None or not len(customers):
            return out
        stream = event_tokens(lines, events, cutoff)
        stream = stream.loc[stream["customer"].isin(customers)]
        stream = stream.groupby("customer", sort=False).tail(self.length)
        codes = self._codes(stream)
        kinds = stream["kind"].to_numpy(np.int32)
        rows = customers.get_indexer(stream["customer"])
        # Position of each token from the end of its customer's window (right-aligned).
        from_end = stream.groupby("customer", sort=False).cumcount(ascending=False).to_numpy()
        x = np.zeros((2, len(customers), self.length), dtype=np.int32)
        x[0, rows, self.length - 1 - from_end] = codes
        x[1, rows, self.length - 1 - from_end] = kinds
        has = np.zeros(len(customers), dtype=bool)
        has[rows] = True
        if not has.any():  # nobody with a token (Keras cannot predict on no rows)
            return out
        net = self._loaded()
        probs = np.asarray(
            net.predict({"items": x[0][has], "kinds": x[1][has]}, batch_size=4096, verbose=0)
        )
        cols = pd.Index(self.items_).get_indexer(items)
        known = cols >= 0
        out[np.ix_(np.flatnonzero(has), np.flatnonzero(known))] = probs[:, cols[known]]
        return out

    def _loaded(self) -> Any:
        if getattr(self, "_net", None) is None:
            net = self._network()
            net.set_weights(self.weights_ or [])
            self._net = net
        return self._net

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_net", None)
        return state
