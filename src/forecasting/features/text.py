"""What the catalogue's text and the products' reviews tell the demand models.

Both are attached to a :class:`~forecasting.features.panel.Panel` once, where the panel is
built (the ``build_features`` step), so the models' training and scoring rows read the
same values:

* :func:`attach_text` puts the first :data:`ATTACHED_DIMENSIONS` components of each
  series' text embedding (:class:`~forecasting.text.TextEmbedding`) into ``panel.ids``
  (``text_0`` ...), and the ``unique_id`` of its :data:`ATTACHED_NEIGHBOURS` nearest text
  neighbours at the same location, most similar first (``text_nb_0`` ...). Neighbours are
  named, not positioned, so they survive :meth:`Panel.subset`; the demand the features pool
  from them is read from the panel's own ``y`` at build time, so a truncated panel (a
  backtest origin) cannot leak their future.
* :func:`attach_reviews` puts a SKU's daily review count, rating sum and sentiment sum on
  every one of its series (``panel.daily``); :meth:`Panel.truncate` hides them after the
  origin like demand.

:class:`~forecasting.features.spec.FeatureSpec` decides which of them become features
(``text``, ``text_neighbours``, ``reviews``); a panel without them gives NaN features.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd

from forecasting.features.panel import Panel
from forecasting.features.spec import _MAX_TEXT_DIMENSIONS, _MAX_TEXT_NEIGHBOURS
from forecasting.text import TextEmbedding, product_text

__all__ = [
    "ATTACHED_DIMENSIONS",
    "ATTACHED_NEIGHBOURS",
    "MIN_DISTINCT_TEXT_SHARE",
    "REVIEW_COLUMNS",
    "attach_reviews",
    "attach_text",
    "has_text",
    "informative_text",
    "neighbour_positions",
    "review_arrays",
    "text_vectors",
]

log = logging.getLogger(__name__)

#: Embedding components kept in ``panel.ids`` (``text_0`` ... ``text_15``).
ATTACHED_DIMENSIONS = _MAX_TEXT_DIMENSIONS
#: Text neighbours kept per series (``text_nb_0`` ... ``text_nb_19``).
ATTACHED_NEIGHBOURS = _MAX_TEXT_NEIGHBOURS
#: Columns of the per-SKU daily reviews frame :func:`attach_reviews` takes.
REVIEW_COLUMNS = ("sku", "ds", "reviews", "rating_sum", "sentiment_sum")
_TEXT = "text_"
_NEIGHBOUR = "text_nb_"
#: :func:`informative_text`: at least this share of products must have a text of their own.
MIN_DISTINCT_TEXT_SHARE = 0.5
_BLOCK = 2048  # queries per similarity block: memory stays ~block x location's series


def _text_columns(ids: pd.DataFrame) -> list[str]:
    return [c for c in ids.columns if c.startswith(_TEXT)]


def has_text(panel: Panel) -> bool:
    """Whether :func:`attach_text` ran on ``panel``."""
    return f"{_TEXT}0" in panel.ids.columns


def informative_text(catalogue: pd.DataFrame) -> bool:
    """Whether the catalogue's text can tell products apart beyond a running number.

    A catalogue whose names are a template and a number ("Item 1", "Item 2", one shared
    description) has no text worth embedding: its neighbours would be products whose
    numbers share digits. The text counts when, with digits removed, at least
    :data:`MIN_DISTINCT_TEXT_SHARE` of the products have a text no other product has.

    Args:
        catalogue: Products (``sku``, ``name``, ``description``, ``category``).
    """
    if catalogue.empty:
        return False
    text = product_text(catalogue).str.replace(r"\d+", " ", regex=True)
    text = text.str.replace(r"\s+", " ", regex=True).str.strip()
    unique = ~text.duplicated(keep=False) & (text != "")
    return bool(unique.mean() >= MIN_DISTINCT_TEXT_SHARE)


def attach_text(
    panel: Panel,
    embedding: TextEmbedding,
    *,
    dimensions: int = ATTACHED_DIMENSIONS,
    neighbours: int = ATTACHED_NEIGHBOURS,
) -> Panel:
    """The panel with each series' text embedding and text neighbours in ``ids``.

    Args:
        panel: Panel whose ``ids`` have ``sku`` (and ``location_id``; without it every
            series is at one location).
        embedding: Text model fitted on the catalogue (SKUs it has not seen get a zero
            vector and no neighbours).
        dimensions: Components kept (``text_0`` ...); fewer if the embedding is shorter,
            the rest zero.
        neighbours: Neighbours kept per series (``text_nb_0`` ...): other series of this
            panel (in the pipeline, the shard's) at the same location, most similar first,
            with a positive cosine similarity; ``None`` where there are fewer.

    Returns:
        A new panel; earlier text columns are replaced.
    """
    ids = panel.ids.drop(columns=_text_columns(panel.ids))
    vectors = embedding.vectors_of(ids["sku"].astype(str).to_numpy())
    static = np.zeros((len(ids), dimensions), dtype=np.float32)
    d = min(dimensions, vectors.shape[1])
    static[:, :d] = vectors[:, :d]
    text = pd.DataFrame(static, columns=[f"{_TEXT}{j}" for j in range(dimensions)])
    named = np.full((len(ids), neighbours), None, dtype=object)
    locations = (
        ids["location_id"].astype(str).to_numpy()
        if "location_id" in ids.columns
        else np.zeros(len(ids), dtype=str)
    )
    uids = ids["unique_id"].to_numpy()
    for location in pd.unique(locations):
        members = np.flatnonzero(locations == location)
        near = _nearest(vectors[members], neighbours)
        named[members] = np.where(near >= 0, uids[members][np.maximum(near, 0)], None)
    nb = pd.DataFrame(named, columns=[f"{_NEIGHBOUR}{j}" for j in range(neighbours)])
    ids = pd.concat([ids.reset_index(drop=True), text, nb], axis=1)
    log.info(
        "text attached: %d series, %d components, %d neighbours each (%d without text)",
        len(ids),
        dimensions,
        neighbours,
        int((np.abs(vectors).sum(axis=1) == 0).sum()),
    )
    return replace(panel, ids=ids)


def _nearest(vectors: np.ndarray, k: int) -> np.ndarray:
    """Positions of each row's ``k`` most similar other rows (cosine > 0), -1 where none."""
    n = len(vectors)
    out = np.full((n, k), -1, dtype=np.int64)
    k_eff = min(k, n - 1)
    if k_eff <= 0:
        return out
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        sims = vectors[start:stop] @ vectors.T
        sims[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # not itself
        top = np.argpartition(-sims, k_eff - 1, axis=1)[:, :k_eff]
        top_sims = np.take_along_axis(sims, top, axis=1)
        order = np.argsort(-top_sims, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top_sims = np.take_along_axis(top_sims, order, axis=1)
        out[start:stop, :k_eff] = np.where(top_sims > 0, top, -1)
    return out


def text_vectors(panel: Panel, dimensions: int) -> np.ndarray:
    """``text_0`` ... of every series, shape ``(n, dimensions)``; NaN where not attached."""
    out = np.full((panel.n_series, dimensions), np.nan)
    for j in range(dimensions):
        column = f"{_TEXT}{j}"
        if column in panel.ids.columns:
            out[:, j] = panel.ids[column].to_numpy(dtype=float)
    return out


def neighbour_positions(panel: Panel, k: int) -> np.ndarray:
    """Positions in ``panel`` of each series' first ``k`` text neighbours, shape ``(n, k)``.

    -1 where a neighbour is missing: none attached, or not in this panel (a subset).
    """
    out = np.full((panel.n_series, k), -1, dtype=np.int64)
    index = pd.Index(panel.ids["unique_id"])
    for j in range(k):
        column = f"{_NEIGHBOUR}{j}"
        if column in panel.ids.columns:
            out[:, j] = index.get_indexer(panel.ids[column])
    return out


def attach_reviews(panel: Panel, daily: pd.DataFrame) -> Panel:
    """The panel with each series' SKU reviews per day in ``panel.daily``.

    Args:
        panel: Panel whose ``ids`` have ``sku``.
        daily: :data:`REVIEW_COLUMNS`: per SKU and day (``ds``), the number of reviews, the
            sum of their ratings and the sum of their sentiment scores. Every location of a
            SKU gets the same values; days without a row are 0; rows outside the panel's
            days or for SKUs not in it are ignored. An empty frame changes nothing.

    Returns:
        A new panel with ``daily["reviews"]``, ``daily["rating_sum"]`` and (unless every
        ``sentiment_sum`` is NaN: no sentiment model) ``daily["sentiment_sum"]``, float64
        of shape ``(n, T)``; or ``panel`` itself.

    Raises:
        ValueError: If a column is missing.
    """
    missing = set(REVIEW_COLUMNS) - set(daily.columns)
    if missing:
        raise ValueError(f"reviews frame lacks columns {sorted(missing)}")
    if daily.empty:
        return panel
    skus = pd.Index(pd.unique(panel.ids["sku"].astype(str)))
    sku_pos = skus.get_indexer(daily["sku"].astype(str))
    day = (pd.to_datetime(daily["ds"]).dt.normalize() - panel.dates[0]).dt.days.to_numpy()
    keep = (sku_pos >= 0) & (day >= 0) & (day < len(panel.dates))
    series_sku = skus.get_indexer(panel.ids["sku"].astype(str))
    arrays = {k: v for k, v in panel.daily.items() if k not in REVIEW_COLUMNS}
    names = list(REVIEW_COLUMNS[2:])
    if daily["sentiment_sum"].isna().all():
        names.remove("sentiment_sum")  # no sentiment model: the feature stays NaN
    for name in names:
        per_sku = np.zeros((len(skus), len(panel.dates)))
        np.add.at(per_sku, (sku_pos[keep], day[keep]), daily[name].to_numpy(dtype=float)[keep])
        arrays[name] = per_sku[series_sku]
    log.info("reviews attached: %d review-days on %d SKUs", int(keep.sum()), len(skus))
    return replace(panel, daily=arrays)


def review_arrays(
    panel: Panel,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """``reviews``, ``rating_sum`` and ``sentiment_sum`` (or ``None``) of
    :func:`attach_reviews`; ``None`` without reviews."""
    if "reviews" not in panel.daily or "rating_sum" not in panel.daily:
        return None
    return panel.daily["reviews"], panel.daily["rating_sum"], panel.daily.get("sentiment_sum")
