"""The TF-IDF blocks every text model here is built from, and how the models are stored.

Word n-grams (1-2) and character n-grams (within word boundaries) are two unit-length
TF-IDF blocks stacked with equal weight, so the stacked row has unit length too and a dot
product of two rows is their cosine similarity. The text embedding of products and the
review sentiment model both use them; nothing is downloaded (scikit-learn's vectorizers
learn their vocabulary from the shop's own text).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import joblib
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["dump_model", "load_model", "stack", "word_and_char_vectorizers"]

T = TypeVar("T")


def word_and_char_vectorizers(
    min_df: int, char_ngrams: tuple[int, int] = (3, 5)
) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    """Unfitted word (1-2 grams, single letters and digits kept) and character n-gram
    TF-IDF vectorizers with sublinear term frequency, float32."""
    word = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        min_df=min_df,
        sublinear_tf=True,
        token_pattern=r"(?u)\b\w+\b",
        dtype=np.float32,
    )
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=char_ngrams,
        min_df=min_df,
        sublinear_tf=True,
        dtype=np.float32,
    )
    return word, char


def stack(word: sparse.spmatrix, char: sparse.spmatrix) -> sparse.csr_matrix:
    """The two unit-length blocks side by side, each weighted by sqrt(1/2): unit rows."""
    return sparse.hstack([word * np.sqrt(0.5), char * np.sqrt(0.5)]).tocsr()


def dump_model(model: object, path: str | Path) -> Path:
    """Write a fitted model (joblib) to ``path``, creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    return path


def load_model(path: str | Path, cls: type[T]) -> T:
    """Read a model written by :func:`dump_model`.

    Raises:
        TypeError: If the file holds something other than a ``cls``.
    """
    model = joblib.load(path)
    if not isinstance(model, cls):
        raise TypeError(f"{path} does not hold a {cls.__name__}")
    return model
