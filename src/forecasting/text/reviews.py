"""Reviews per SKU and shop day: the frame the review features are built from.

:func:`daily_reviews` turns review rows into one row per SKU and shop-local day with a
review: how many, the sum of their ratings and the sum of their text sentiment. Sums, not
means, so any window's mean is ``sum / count`` over that window's rows (a feature builder
rolls sums and counts separately and divides once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from forecasting.text.sentiment import SentimentModel

__all__ = ["DAILY_REVIEW_COLUMNS", "daily_reviews", "to_shop_time"]

#: Columns of :func:`daily_reviews`' frame, in order.
DAILY_REVIEW_COLUMNS = ("sku", "ds", "reviews", "rating_sum", "sentiment_sum")


def to_shop_time(timestamps: pd.Series, source_tz: str, shop_tz: str) -> pd.Series:
    """Naive source-timezone timestamps as naive shop-local ones.

    The conversion extraction applies to ``orders.ordered_at`` (see
    :mod:`forecasting.extraction.window`): a wall-clock time repeated when clocks go back is
    read as the later (standard-time) one, a time skipped when they go forward moves
    forward.

    Args:
        timestamps: Naive timestamps in ``source_tz``.
        source_tz: The source database's timezone (IANA name).
        shop_tz: The shop's timezone (IANA name).

    Returns:
        Naive timestamps in ``shop_tz``, indexed like ``timestamps``.
    """
    values = pd.to_datetime(timestamps)
    if source_tz == shop_tz or len(values) == 0:
        return values
    ambiguous = np.zeros(len(values), dtype=bool)
    local = values.dt.tz_localize(source_tz, ambiguous=ambiguous, nonexistent="shift_forward")
    return local.dt.tz_convert(shop_tz).dt.tz_localize(None)


def daily_reviews(
    reviews: pd.DataFrame,
    sentiment: SentimentModel | None = None,
    *,
    source_tz: str | None = None,
    shop_tz: str | None = None,
) -> pd.DataFrame:
    """Reviews per SKU and shop-local day.

    Args:
        reviews: Review rows with ``sku``, ``rating`` (1..5) and ``created_at`` (naive
            timestamps), and ``title`` and ``body`` when ``sentiment`` is given. Rows with
            a missing SKU, rating or time are ignored.
        sentiment: A fitted model scoring each review's text on -1..1; ``None``: no
            sentiment (``sentiment_sum`` is NaN).
        source_tz: Timezone of ``created_at``; with ``shop_tz``, times are converted like
            orders' (:func:`to_shop_time`). ``None`` (the default): ``created_at`` is
            already shop-local, as in the extract's ``reviews`` frame.
        shop_tz: The shop's timezone.

    Returns:
        One row per SKU and day with at least one review, sorted by ``sku``, ``ds``:
        ``sku`` (str), ``ds`` (datetime64 day, shop-local), ``reviews`` (int64 count),
        ``rating_sum`` (float64 sum of ratings), ``sentiment_sum`` (float64 sum of the
        model's -1..1 scores; NaN without a model). Days without reviews have no row.
    """
    frame = reviews.dropna(subset=["sku", "rating", "created_at"])
    if len(frame) == 0:
        return _empty()
    created = pd.to_datetime(frame["created_at"])
    if source_tz is not None and shop_tz is not None:
        created = to_shop_time(created, source_tz, shop_tz)
    scores = sentiment.score(frame) if sentiment is not None else np.full(len(frame), np.nan)
    rows = pd.DataFrame(
        {
            "sku": frame["sku"].astype(str).to_numpy(),
            "ds": created.dt.normalize().to_numpy(),
            "reviews": 1,
            "rating_sum": pd.to_numeric(frame["rating"]).to_numpy(dtype=np.float64),
            "sentiment_sum": scores.astype(np.float64),
        }
    )
    groups = rows.groupby(["sku", "ds"], sort=True)
    daily = groups[["reviews", "rating_sum"]].sum()
    daily["sentiment_sum"] = groups["sentiment_sum"].sum(min_count=1)
    return daily.reset_index().astype(
        {"reviews": "int64", "rating_sum": "float64", "sentiment_sum": "float64"}
    )


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": pd.Series(dtype=object),
            "ds": pd.Series(dtype="datetime64[ns]"),
            "reviews": pd.Series(dtype="int64"),
            "rating_sum": pd.Series(dtype="float64"),
            "sentiment_sum": pd.Series(dtype="float64"),
        }
    )
