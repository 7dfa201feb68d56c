"""One dense text representation of every product, fitted on the shop's own catalogue.

A product's text is its name, description and category (:func:`product_text`). It is
turned into word (1-2 grams) and character (3-5 grams, within word boundaries) TF-IDF,
the two blocks weighted equally, reduced by truncated SVD (latent semantic analysis) to a
few dozen dimensions and scaled to unit length, so the dot product of two embeddings is
their cosine similarity.

Why this and not a pretrained language model: nothing may download weights or
vocabularies at run time, and a catalogue's words ("RETROSPOT", "T-LIGHT", a brand) are
its own. Word n-grams catch shared terms, character n-grams catch spelling variants and
compounds ("TLIGHT", "T-LIGHT HOLDER"); the SVD turns a sparse vocabulary of tens of
thousands of terms into a short dense vector that the demand models, the launch curves
and the recommendations can all use. Fitting takes about a second for 4,000 products
and is refitted on every training run, so new words enter with the products that use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from forecasting.text.tfidf import dump_model, load_model, stack, word_and_char_vectorizers

__all__ = ["DEFAULT_DIMENSIONS", "TextEmbedding", "product_text"]

#: Embedding dimensions (capped below the vocabulary and the number of products).
DEFAULT_DIMENSIONS = 32
#: Words and character n-grams seen in fewer products than this are dropped.
_MIN_DF = 2


def product_text(products: pd.DataFrame) -> pd.Series:
    """The text a product is known by: name, description and category, lower-cased.

    Args:
        products: Catalogue rows with ``sku`` and any of ``name``, ``description``,
            ``category`` (missing columns and NULLs count as empty). A description that
            repeats the name is used once.

    Returns:
        One string per row, indexed like ``products``.
    """
    parts = []
    for column in ("name", "description", "category"):
        if column in products.columns:
            parts.append(products[column].fillna("").astype(str).str.strip())
        else:
            parts.append(pd.Series("", index=products.index))
    name, description, category = parts
    description = description.where(description.str.lower() != name.str.lower(), "")
    text = name + " " + description + " " + category
    return text.str.lower().str.replace(r"\s+", " ", regex=True).str.strip()


@dataclass
class TextEmbedding:
    """A fitted text model and the embeddings of the catalogue it was fitted on.

    Attributes:
        skus: The fitted catalogue's SKUs, in the order of ``vectors``.
        vectors: Unit-length embeddings, shape ``(len(skus), dimensions)``, float32.
        word: The word n-gram TF-IDF.
        char: The character n-gram TF-IDF.
        svd: The reduction to ``dimensions`` (``None`` when the catalogue is too small).
    """

    skus: np.ndarray
    vectors: np.ndarray
    word: TfidfVectorizer
    char: TfidfVectorizer
    svd: TruncatedSVD | None

    @property
    def dimensions(self) -> int:
        """Length of an embedding."""
        return int(self.vectors.shape[1])

    @classmethod
    def fit(
        cls, products: pd.DataFrame, dimensions: int = DEFAULT_DIMENSIONS, seed: int = 0
    ) -> TextEmbedding:
        """Fit TF-IDF and SVD on ``products`` and embed them.

        Args:
            products: Catalogue rows (``sku``, ``name``, ``description``, ``category``).
            dimensions: Embedding length (fewer if the catalogue cannot support it).
            seed: SVD's random state.
        """
        text = product_text(products).to_numpy()
        min_df = _MIN_DF if len(text) >= 20 else 1
        word, char = word_and_char_vectorizers(min_df)
        matrix = stack(word.fit_transform(text), char.fit_transform(text))
        k = min(dimensions, matrix.shape[1] - 1, len(text) - 1)
        svd = TruncatedSVD(n_components=k, random_state=seed) if k >= 2 else None
        dense = svd.fit_transform(matrix) if svd is not None else matrix.toarray()
        return cls(products["sku"].astype(str).to_numpy(), _unit(dense), word, char, svd)

    def transform(self, products: pd.DataFrame) -> np.ndarray:
        """Embed products (new ones included) with the fitted model."""
        matrix = self.sparse_vectors(products)
        dense = self.svd.transform(matrix) if self.svd is not None else matrix.toarray()
        return _unit(dense)

    def sparse_vectors(self, products: pd.DataFrame) -> sparse.csr_matrix:
        """Unit-length TF-IDF rows of products before the SVD (the word and character
        blocks weighted equally): finer neighbours than the embedding, at more cost."""
        text = product_text(products).to_numpy()
        return stack(self.word.transform(text), self.char.transform(text))

    def vectors_of(self, skus: np.ndarray | pd.Series) -> np.ndarray:
        """Embeddings of fitted SKUs (zeros for SKUs the model has not seen)."""
        pos = pd.Index(self.skus).get_indexer(np.asarray(skus, dtype=str))
        out = np.zeros((len(pos), self.dimensions), dtype=np.float32)
        out[pos >= 0] = self.vectors[pos[pos >= 0]]
        return out

    def neighbours(
        self, query: np.ndarray, k: int, among: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most similar fitted products to each query embedding.

        Args:
            query: Embeddings, shape ``(m, dimensions)``.
            k: Neighbours per query (fewer if ``among`` has fewer candidates).
            among: Boolean mask over :attr:`skus`: the candidates (default all). A query
                identical to a candidate (itself) is not excluded: pass a mask without it.

        Returns:
            Positions into :attr:`skus`, shape ``(m, k')``, most similar first, and their
            cosine similarities.
        """
        candidates = np.flatnonzero(among) if among is not None else np.arange(len(self.skus))
        k = min(k, len(candidates))
        if k == 0 or len(query) == 0:
            empty = np.zeros((len(query), 0))
            return empty.astype(np.int64), empty
        sims = query @ self.vectors[candidates].T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top_sims = np.take_along_axis(sims, top, axis=1)
        order = np.argsort(-top_sims, axis=1, kind="stable")
        return candidates[np.take_along_axis(top, order, axis=1)], np.take_along_axis(
            top_sims, order, axis=1
        )

    def save(self, path: str | Path) -> Path:
        """Write the fitted model (joblib) to ``path``."""
        return dump_model(self, path)

    @classmethod
    def load(cls, path: str | Path) -> TextEmbedding:
        """Read a model written by :meth:`save`."""
        return load_model(path, cls)


def _unit(dense: np.ndarray) -> np.ndarray:
    dense = np.asarray(dense, dtype=np.float32)
    norm = np.linalg.norm(dense, axis=1, keepdims=True)
    return np.divide(dense, norm, out=np.zeros_like(dense), where=norm > 0)
