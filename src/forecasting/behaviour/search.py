"""Search queries: normalisation, and which catalogue products a query matches.

A query matches a product when every word of the normalised query occurs among the words of
the product's name, description or category (after the same normalisation; a word of three
letters or more also matches as a prefix, so ``candle`` finds ``candles``). That is the
shop's own search box at its simplest: enough to tell a query that finds nothing from one
that finds something, which is what unmet demand needs, without a model to train.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["QueryMatcher", "normalise_query"]

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
#: Longest normalised query kept (the ``search_demand.query`` column).
MAX_QUERY_LENGTH = 255
#: Shortest word matched as a prefix.
MIN_PREFIX = 3


def normalise_query(text: object) -> str:
    """Lower case, punctuation to spaces, single spaces, at most 255 characters.

    ``None``/NaN and blank queries give ``""``.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    words = _NON_WORD.sub(" ", str(text).lower()).split()
    return " ".join(words)[:MAX_QUERY_LENGTH].strip()


class QueryMatcher:
    """Which products a normalised query matches (an inverted index over their words).

    Args:
        catalogue: ``sku`` and any of ``name``, ``description``, ``category``.
    """

    def __init__(self, catalogue: pd.DataFrame) -> None:
        self.skus = catalogue["sku"].astype(str).to_numpy()
        index: dict[str, set[int]] = {}
        for i, text in enumerate(_texts(catalogue)):
            for word in set(normalise_query(text).split()):
                index.setdefault(word, set()).add(i)
        self._index = index
        self._words = sorted(index)
        self._cache: dict[str, np.ndarray] = {}

    def _word(self, word: str) -> set[int]:
        found = set(self._index.get(word, ()))
        if len(word) >= MIN_PREFIX:
            lo = np.searchsorted(self._words, word)
            for other in self._words[lo:]:
                if not other.startswith(word):
                    break
                found |= self._index[other]
        return found

    def match(self, query: str) -> np.ndarray:
        """Positions (into :attr:`skus`) of the products matching a normalised query."""
        if query in self._cache:
            return self._cache[query]
        words = query.split()
        hits: set[int] | None = None
        for word in words:
            found = self._word(word)
            hits = found if hits is None else hits & found
            if not hits:
                break
        out = np.array(sorted(hits or ()), dtype=np.int64)
        self._cache[query] = out
        return out

    def matched_skus(self, query: str) -> list[str]:
        """SKUs a normalised query matches."""
        return [str(s) for s in self.skus[self.match(query)]]

    def count(self, queries: Iterable[str]) -> np.ndarray:
        """Number of matching products per query."""
        return np.array([len(self.match(q)) for q in queries], dtype=np.int64)


def _texts(catalogue: pd.DataFrame) -> list[str]:
    parts = [
        catalogue[c].fillna("").astype(str)
        for c in ("name", "description", "category")
        if c in catalogue.columns
    ]
    if not parts:
        return [""] * len(catalogue)
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + " " + part
    return joined.tolist()
