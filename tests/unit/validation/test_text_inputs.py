"""GX suites for the text inputs: the catalogue's text and launch dates, and reviews."""

from datetime import date
from pathlib import Path

import pandas as pd
from upath import UPath

from forecasting.config import DataChecks
from forecasting.extraction import ExtractWindow, write_partition
from forecasting.extraction.assemble import Extract, empty_catalogue
from forecasting.extraction.source import REVIEW_COLUMNS
from forecasting.sharding import Shard
from forecasting.validation import (
    ValidationFailedError,
    catalogue_text_expectations,
    review_expectations,
    validate_frame,
    validate_shard,
)
from forecasting.validation.suite import Finding

WINDOW = ExtractWindow(date(2024, 1, 1), date(2024, 1, 11), date(2024, 1, 14))


def failed(findings: list[Finding]) -> dict[tuple[str, str], Finding]:
    return {
        (f.expectation, f.kwargs.get("column", "")): f
        for f in findings
        if not f.success and f.blocking
    }


def catalogue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "name": ["RED T-LIGHT", "BLUE T-LIGHT", "TEA TIN"],
            "description": ["A t-light.", None, "A tin."],
            "category": "home",
            "list_price": 2.5,
            "launched_on": pd.to_datetime(["2020-01-01", None, "2024-01-20"]),  # C: planned
        }
    )


def reviews() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "review_id": ["r1", "r2", "r3"],
            "sku": ["A", "B", "A"],
            "customer": None,
            "rating": [5.0, 2.0, 4.0],
            "title": ["Love it", None, "Good"],
            "body": ["Lovely.", "Broke.", "Nice."],
            "created_at": pd.to_datetime(
                ["2024-01-02 10:00:00", "2024-01-05 11:00:00", "2024-01-10 23:59:59"]
            ),
        }
    ).loc[:, list(REVIEW_COLUMNS)]


def test_catalogue_text_and_launch_dates() -> None:
    suite = catalogue_text_expectations
    assert not failed(validate_frame(catalogue(), suite(WINDOW), "catalogue (test)", ("sku",)))
    bad = catalogue()
    bad.loc[0, "name"] = "X" * 256
    bad.loc[1, "launched_on"] = pd.Timestamp("1970-01-01")  # a default, not a launch
    bad.loc[2, "launched_on"] = pd.Timestamp("2025-06-01")  # more than a year after the run
    found = failed(validate_frame(bad, suite(WINDOW), "catalogue (test)", ("sku",)))
    name = found[("expect_column_value_lengths_to_be_between", "name")]
    assert name.unexpected_count == 1 and name.sample_rows[0]["sku"] == "A"
    launch = found[("expect_column_values_to_be_between", "launched_on")]
    assert launch.unexpected_count == 2
    assert {r["sku"] for r in launch.sample_rows} == {"B", "C"}
    assert launch.kwargs["max_value"] == "2025-01-10"  # the run's day (Jan 10) + 366


def test_bad_reviews_are_named_with_sample_rows() -> None:
    index = ("review_id", "sku")
    suite = review_expectations(WINDOW, ["A", "B", "C"])
    assert not failed(validate_frame(reviews(), suite, "reviews (test)", index))
    suite = review_expectations(WINDOW, ["A", "B", "C"])
    bad = reviews()
    bad.loc[0, "rating"] = 7.0
    bad.loc[1, "created_at"] = pd.Timestamp("2024-01-11 00:00")  # after the run's day
    bad.loc[2, "body"] = "x" * 20_001
    found = failed(validate_frame(bad, suite, "reviews (test)", index))
    rating = found[("expect_column_values_to_be_between", "rating")]
    assert rating.sample_rows == [{"rating": "7.0", "review_id": "r1", "sku": "A"}]
    late = found[("expect_column_values_to_be_between", "created_at")]
    assert late.sample_rows[0]["review_id"] == "r2"
    assert found[("expect_column_value_lengths_to_be_between", "body")].unexpected_count == 1
    # Reviews of SKUs the catalogue does not know: a few are fine, most are not.
    unknown = failed(
        validate_frame(reviews(), review_expectations(WINDOW, ["A"]), "reviews (test)", index)
    )
    share = unknown[("expect_column_values_to_be_in_set", "sku")]
    assert share.sample_rows == [{"sku": "B", "review_id": "r2"}]


def test_a_bad_review_stops_the_shard(tmp_path: Path) -> None:
    empty = pd.DataFrame({"unique_id": pd.Series(dtype=object)})
    bad = reviews()
    bad.loc[1, "rating"] = 0.0
    extract = Extract(
        history=pd.DataFrame(
            {
                "unique_id": pd.Series(dtype=object),
                "sku": pd.Series(dtype=object),
                "location_id": pd.Series(dtype=object),
                "ds": pd.Series(dtype="datetime64[ns]"),
                "y": pd.Series(dtype=float),
                "price": pd.Series(dtype=float),
                "promo_discount": pd.Series(dtype=float),
                "excluded": pd.Series(dtype=object),
            }
        ),
        future=empty.assign(ds=pd.Series(dtype="datetime64[ns]")),
        events=pd.DataFrame({"ds": pd.Series(dtype="datetime64[ns]"), "name": [], "kind": []}),
        prices=pd.DataFrame({"sku": [], "list_price": [], "price_ratio": []}),
        cleaning={},
        catalogue=pd.concat([empty_catalogue(), catalogue()], ignore_index=True),
        reviews=bad,
    )
    folder = UPath(tmp_path / "extract")
    write_partition(folder, extract, WINDOW, Shard(0, 1))
    report, _ = validate_shard(folder, Shard(0, 1), WINDOW, 3, None, DataChecks())
    assert not report.success and report.tables["reviews"] == 3
    message = str(ValidationFailedError(report))
    assert "FAILED on table reviews (" in message and "product_reviews" in message
    assert "column=rating" in message and "'review_id': 'r2'" in message
