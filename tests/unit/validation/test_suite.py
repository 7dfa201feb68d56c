from datetime import date

import pandas as pd

from forecasting.config import DataChecks
from forecasting.extraction import EXTRACT_COLUMNS, ExtractWindow
from forecasting.validation import (
    ValidationFailedError,
    ValidationReport,
    demand_expectations,
    future_expectations,
    key_expectations,
    validate_frame,
)

WINDOW = ExtractWindow(date(2024, 1, 1), date(2024, 1, 11), date(2024, 1, 14))
CHECKS = DataChecks()


def good_frame() -> pd.DataFrame:
    days = pd.date_range(WINDOW.start, WINDOW.last_day)
    return pd.DataFrame(
        {
            "unique_id": ["A@x"] * len(days),
            "sku": "A",
            "location_id": "x",
            "ds": days,
            "y": [float(i % 3) for i in range(len(days))],
            "price": 9.5,
            "promo_discount": 0.0,
            "excluded": None,
        }
    )


def run(frame: pd.DataFrame):
    return validate_frame(
        frame, demand_expectations(WINDOW, EXTRACT_COLUMNS, CHECKS), "demand (test)"
    )


def failed(findings) -> dict:
    return {
        (f.expectation, f.kwargs.get("column", f.kwargs.get("column_list", ""))): f
        for f in findings
        if not f.success and f.blocking
    }


def report(findings) -> ValidationReport:
    return ValidationReport(
        "extract shard=0-of-1 for 2024-01-10",
        all(f.success or not f.blocking for f in findings),
        {"demand": 10},
        findings,
    )


def test_good_extract_passes() -> None:
    findings = run(good_frame())
    assert not failed(findings) and len(findings) == 13
    assert all(f.table == "demand (test)" for f in findings)
    keys = run_keys(good_frame())
    assert all(f.success for f in keys) and len(keys) == 4


def test_negative_quantities_and_duplicate_keys_are_named_with_sample_rows() -> None:
    frame = good_frame()
    frame.loc[3, "y"] = -4.0
    frame = pd.concat([frame, frame.iloc[[5]]], ignore_index=True)
    found = failed(run(frame))
    neg = found[("expect_column_values_to_be_between", "y")]
    assert neg.unexpected_count == 1
    assert neg.sample_rows == [{"y": "-4.0", "unique_id": "A@x", "ds": "2024-01-04"}]
    dup = found[("expect_compound_columns_to_be_unique", "['unique_id', 'ds']")]
    assert dup.unexpected_count == 2
    assert {"unique_id": "A@x", "ds": "2024-01-06"} in dup.sample_rows
    message = str(ValidationFailedError(report(run(frame)), "file:///x/validation.json"))
    assert "FAILED on table demand (test)" in message
    assert "expect_column_values_to_be_between(column=y, min_value=0.0)" in message
    assert "'ds': '2024-01-04'" in message and "Full report: file:///x/validation.json" in message


def test_demand_may_be_empty_only_on_excluded_days() -> None:
    frame = good_frame()
    frame.loc[2, ["y", "excluded"]] = [float("nan"), "outlier"]
    assert not failed(run(frame))
    frame.loc[3, "y"] = float("nan")  # no reason given
    nulls = failed(run(frame))[("expect_column_values_to_not_be_null", "y")]
    assert nulls.unexpected_count == 1 and nulls.sample_rows[0]["ds"] == "2024-01-04"


def test_dates_outside_window_prices_and_schema_drift() -> None:
    frame = good_frame()
    frame.loc[0, "ds"] = pd.Timestamp("2023-12-31")
    frame.loc[1, "price"] = 0.0
    frame["extra"] = 1
    found = failed(run(frame))
    assert found[("expect_column_values_to_be_between", "ds")].unexpected_count == 1
    assert found[("expect_column_values_to_be_between", "price")].unexpected_count == 1
    drift = next(
        f for f in found.values() if f.expectation == "expect_table_columns_to_match_ordered_list"
    )
    assert "extra" in (drift.observed or "")


def test_missing_column_and_nulls_fail_clearly() -> None:
    frame = good_frame().drop(columns="price")
    frame.loc[2, "sku"] = None
    found = failed(run(frame))
    assert "does not exist" in (
        found[("expect_column_values_to_not_be_null", "price")].observed or ""
    )
    assert found[("expect_column_values_to_not_be_null", "sku")].unexpected_count == 1


def run_keys(frame: pd.DataFrame):
    keys = frame.loc[:, ["sku", "location_id"]].drop_duplicates(ignore_index=True)
    return validate_frame(
        keys, key_expectations(CHECKS), "demand keys (test)", index_columns=("sku", "location_id")
    )


def test_keys_too_long_fail_and_padded_keys_warn() -> None:
    frame = good_frame()
    frame["sku"] = "A" * 256
    too_long = failed(run_keys(frame))[("expect_column_value_lengths_to_be_between", "sku")]
    assert too_long.unexpected_count == 1 and too_long.sample_rows[0]["sku"] == "A" * 256
    frame = good_frame()
    frame["sku"] = "A "
    findings = run_keys(frame)
    assert not failed(findings)
    warning = next(f for f in findings if not f.success)
    assert warning.expectation == "expect_column_values_to_not_match_regex" and not warning.blocking
    assert "WARNING on table demand keys (test)" in report(findings).summary()


def test_future_covariates_must_be_complete_and_sane() -> None:
    days = pd.date_range(WINDOW.end, periods=3)
    future = pd.DataFrame(
        {
            "unique_id": "A@x",
            "sku": "A",
            "location_id": "x",
            "ds": days,
            "price": [9.5, -9.7, 9.5],  # a discount of 1.5 makes the price negative
            "promo_discount": [0.0, 1.5, 0.0],
        }
    )
    found = failed(validate_frame(future, future_expectations(WINDOW, 1, 3), "future (test)"))
    assert found[("expect_column_values_to_be_between", "price")].unexpected_count == 1
    assert found[("expect_column_values_to_be_between", "promo_discount")].unexpected_count == 1
    missing = failed(
        validate_frame(future.iloc[:2], future_expectations(WINDOW, 1, 3), "future (test)")
    )
    assert ("expect_table_row_count_to_equal", "") in missing
