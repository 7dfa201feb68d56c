"""The review sentiment model and the per-SKU daily review frame."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.sources.synthetic import generate_shop
from forecasting.text.reviews import DAILY_REVIEW_COLUMNS, daily_reviews, to_shop_time
from forecasting.text.sentiment import SentimentModel


@pytest.fixture(scope="module")
def reviews() -> pd.DataFrame:
    return generate_shop(n_skus=40, n_locations=1, days=365, seed=5).product_reviews


def test_sentiment_learns_the_shops_reviews(reviews: pd.DataFrame, tmp_path: Path) -> None:
    model = SentimentModel().fit(reviews)
    assert model.n_reviews_ == len(reviews)
    metrics = model.evaluate(reviews)  # the newest 20%, by a model of the older 80%
    assert metrics["n_test"] == pytest.approx(0.2 * len(reviews), abs=1)
    assert metrics["mae"] < 0.75 * metrics["baseline_mae"]
    assert metrics["spearman"] > 0.6
    new = pd.DataFrame(
        {
            "title": ["Love it", "Waste of money", "Average"],
            "body": ["Perfect gift, great quality.", "Broke after one day, refund.", "Okay."],
        }
    )
    score = model.score(new)
    assert score[0] > 0.3 > score[2] > score[1] and score[1] < -0.2
    assert np.all((score >= -1) & (score <= 1))
    loaded = SentimentModel.load(model.save(tmp_path / "sentiment.joblib"))
    np.testing.assert_allclose(loaded.score(new), score)


def test_sentiment_refuses_too_few_or_bad_ratings(reviews: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="at least 20 reviews"):
        SentimentModel().fit(reviews.head(5))
    with pytest.raises(ValueError, match="two distinct ratings"):
        SentimentModel().fit(reviews.assign(rating=4))
    with pytest.raises(ValueError, match=r"in 1\.\.5"):
        SentimentModel().fit(reviews.assign(rating=reviews["rating"].where(reviews.index > 0, 7)))
    with pytest.raises(ValueError, match="not fitted"):
        SentimentModel().score(reviews)


def test_daily_reviews_sum_per_sku_and_shop_day() -> None:
    rows = pd.DataFrame(
        {
            "sku": ["A", "A", "A", "B", None],
            "rating": [5, 1, 4, 3, 5],
            "title": ["Love it", "Terrible", "Good", "Okay", "x"],
            "body": ["", "", "", "", ""],
            # Source (UTC) times; the shop is in New York (UTC-4 in June).
            "created_at": pd.to_datetime(
                [
                    "2024-06-02 03:00",  # June 1 in New York
                    "2024-06-01 20:00",  # June 1
                    "2024-06-02 12:00",  # June 2
                    "2024-06-02 12:00",
                    "2024-06-02 12:00",  # no SKU: ignored
                ]
            ),
        }
    )
    daily = daily_reviews(rows, source_tz="UTC", shop_tz="America/New_York")
    assert tuple(daily.columns) == DAILY_REVIEW_COLUMNS
    assert daily[["sku", "reviews", "rating_sum"]].to_dict("list") == {
        "sku": ["A", "A", "B"],
        "reviews": [2, 1, 1],
        "rating_sum": [6.0, 4.0, 3.0],
    }
    assert list(daily["ds"].dt.strftime("%Y-%m-%d")) == ["2024-06-01", "2024-06-02", "2024-06-02"]
    assert daily["sentiment_sum"].isna().all() and daily["reviews"].dtype == "int64"
    # Already shop-local times are grouped as they are.
    assert daily_reviews(rows)["reviews"].tolist() == [1, 2, 1]

    class Fixed(SentimentModel):
        def score(self, frame: pd.DataFrame) -> np.ndarray:
            return np.where(frame["rating"] >= 4, 0.5, -0.5)

    scored = daily_reviews(rows, Fixed(), source_tz="UTC", shop_tz="America/New_York")
    assert scored["sentiment_sum"].tolist() == [0.0, 0.5, -0.5]
    empty = daily_reviews(rows.iloc[:0])
    assert tuple(empty.columns) == DAILY_REVIEW_COLUMNS and empty.empty


def test_to_shop_time_across_daylight_saving() -> None:
    source = pd.Series(pd.to_datetime(["2024-03-10 06:30", "2024-11-03 05:30", "2024-07-01 00:00"]))
    local = to_shop_time(source, "UTC", "America/New_York")
    assert list(local.dt.strftime("%Y-%m-%d %H:%M")) == [
        "2024-03-10 01:30",
        "2024-11-03 01:30",
        "2024-06-30 20:00",
    ]
    assert to_shop_time(source, "UTC", "UTC").equals(source)
