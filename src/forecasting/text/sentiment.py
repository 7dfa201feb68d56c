"""A review sentiment model trained on the shop's own reviews, the rating as the label.

Word (1-2 grams) and character (2-5 grams within word boundaries) TF-IDF of a review's
title and body, weighted equally, and a ridge regression onto the 1..5 rating. The model
learns the shop's own vocabulary ("flimsy", "refund", "perfect gift"); nothing is
downloaded. Ratings already say how satisfied a reviewer was; the text model's score adds
a smoother, less self-selected reading of the same satisfaction (a "3" that says "broke
after a day" scores lower than one that says "fine for the price") and scores reviews the
same way in every run. :meth:`SentimentModel.evaluate` measures it on a time-ordered
holdout: the newest reviews, scored by a model fitted on the older ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.linear_model import Ridge

from forecasting.text.tfidf import dump_model, load_model, stack, word_and_char_vectorizers

__all__ = ["MIN_REVIEWS", "SentimentModel", "review_text"]

#: Fewest reviews (with at least two distinct ratings) :meth:`SentimentModel.fit` accepts.
MIN_REVIEWS = 20


def review_text(reviews: pd.DataFrame) -> pd.Series:
    """A review's text: title and body, lower-cased (missing columns and NULLs are empty).

    Args:
        reviews: Rows with any of ``title`` and ``body``.

    Returns:
        One string per row, indexed like ``reviews``.
    """
    parts = [
        reviews[c].fillna("").astype(str).str.strip()
        if c in reviews.columns
        else pd.Series("", index=reviews.index)
        for c in ("title", "body")
    ]
    text = parts[0] + " . " + parts[1]
    return text.str.lower().str.replace(r"\s+", " ", regex=True).str.strip()


class SentimentModel:
    """TF-IDF and ridge regression from review text to rating.

    Follows scikit-learn's contract: ``__init__`` stores hyperparameters, :meth:`fit`
    returns ``self``, learned state ends in ``_``.

    Args:
        alpha: Ridge penalty.
        min_df: Terms in fewer reviews than this are dropped (1 under 200 reviews).
    """

    def __init__(self, alpha: float = 3.0, min_df: int = 2) -> None:
        self.alpha = alpha
        self.min_df = min_df

    def fit(self, reviews: pd.DataFrame) -> SentimentModel:
        """Fit on reviews with ``title``, ``body`` and ``rating`` (1..5).

        Args:
            reviews: The training reviews.

        Returns:
            ``self``.

        Raises:
            ValueError: With fewer than :data:`MIN_REVIEWS` reviews, a single distinct
                rating, or ratings outside 1..5.
        """
        rating = pd.to_numeric(reviews["rating"], errors="coerce").to_numpy(dtype=float)
        if len(reviews) < MIN_REVIEWS or len(np.unique(rating[~np.isnan(rating)])) < 2:
            raise ValueError(
                f"a sentiment model needs at least {MIN_REVIEWS} reviews with two distinct "
                f"ratings, got {len(reviews)}"
            )
        if np.isnan(rating).any() or (rating < 1).any() or (rating > 5).any():
            raise ValueError("review ratings must be numbers in 1..5")
        text = review_text(reviews).to_numpy()
        min_df = self.min_df if len(text) >= 200 else 1
        self.word_, self.char_ = word_and_char_vectorizers(min_df, char_ngrams=(2, 5))
        matrix = stack(self.word_.fit_transform(text), self.char_.fit_transform(text))
        self.ridge_ = Ridge(alpha=self.alpha).fit(matrix, rating)
        self.n_reviews_ = len(text)
        return self

    def expected_rating(self, reviews: pd.DataFrame) -> np.ndarray:
        """The rating each review's text predicts, clipped to 1..5.

        Args:
            reviews: Rows with ``title`` and ``body`` (the rating is not read).

        Returns:
            Float64 array, one value per row.
        """
        if not hasattr(self, "ridge_"):
            raise ValueError("SentimentModel is not fitted: call fit() first")
        if len(reviews) == 0:
            return np.zeros(0)
        text = review_text(reviews).to_numpy()
        matrix = stack(self.word_.transform(text), self.char_.transform(text))
        return np.clip(self.ridge_.predict(matrix), 1.0, 5.0).astype(np.float64)

    def score(self, reviews: pd.DataFrame) -> np.ndarray:
        """Sentiment of each review's text on a -1..1 scale.

        The expected rating mapped linearly: 1 star is -1, 3 stars 0, 5 stars +1
        (``(expected_rating - 3) / 2``).

        Args:
            reviews: Rows with ``title`` and ``body``.

        Returns:
            Float64 array in [-1, 1], one value per row.
        """
        return (self.expected_rating(reviews) - 3.0) / 2.0

    def evaluate(self, reviews: pd.DataFrame, holdout: float = 0.2) -> dict[str, float]:
        """Fit a copy on the older reviews and score the newest ``holdout`` share.

        Never a random split: reviews are ordered by ``created_at`` (row order without
        it), so the measure is what a model fitted today does on next month's reviews.
        ``self`` is not changed.

        Args:
            reviews: Reviews with ``title``, ``body``, ``rating`` and ``created_at``.
            holdout: Share of the newest reviews held out.

        Returns:
            ``mae`` (expected rating vs rating, in stars), ``baseline_mae`` (the older
            reviews' mean rating for all), ``spearman`` (rank correlation of score and
            rating), ``n_train`` and ``n_test``.
        """
        if "created_at" in reviews.columns:
            reviews = reviews.sort_values("created_at", kind="stable")
        n_test = max(1, round(len(reviews) * holdout))
        train, test = reviews.iloc[:-n_test], reviews.iloc[-n_test:]
        model = SentimentModel(alpha=self.alpha, min_df=self.min_df).fit(train)
        rating = test["rating"].to_numpy(dtype=float)
        predicted = model.expected_rating(test)
        mean = float(train["rating"].astype(float).mean())
        rho = spearmanr(predicted, rating).statistic if len(test) > 1 else float("nan")
        return {
            "mae": float(np.abs(predicted - rating).mean()),
            "baseline_mae": float(np.abs(mean - rating).mean()),
            "spearman": float(rho),
            "n_train": float(len(train)),
            "n_test": float(len(test)),
        }

    def save(self, path: str | Path) -> Path:
        """Write the fitted model (joblib) to ``path``."""
        return dump_model(self, path)

    @classmethod
    def load(cls, path: str | Path) -> SentimentModel:
        """Read a model written by :meth:`save`.

        Raises:
            TypeError: If the file holds something else.
        """
        return load_model(path, cls)
