import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from forecasting.extraction import EXTRACT_COLUMNS
from forecasting.pipeline import validate_step
from forecasting.validation import ValidationFailedError, demand_expectations, validate_frame

START, LAST = date(2024, 1, 1), date(2024, 1, 10)


def good_frame() -> pd.DataFrame:
    days = pd.date_range(START, LAST)
    return pd.DataFrame(
        {
            "unique_id": ["A@x"] * len(days),
            "sku": "A",
            "location_id": "x",
            "ds": days,
            "y": [float(i % 3) for i in range(len(days))],
            "price": 9.5,
            "promo_discount": 0.0,
        }
    )


def run(frame: pd.DataFrame):
    return validate_frame(frame, demand_expectations(START, LAST, EXTRACT_COLUMNS), "demand (test)")


def failed(report) -> dict[str, object]:
    return {
        (f.expectation, f.kwargs.get("column", f.kwargs.get("column_list", ""))): f
        for f in report.failures
    }


def report_failures(frame: pd.DataFrame) -> list:
    return run(frame).failures


def test_good_extract_passes() -> None:
    report = run(good_frame())
    assert report.success and not report.failures
    assert len(report.findings) == 13


def test_negative_quantities_and_duplicate_keys_are_named_with_sample_rows() -> None:
    frame = good_frame()
    frame.loc[3, "y"] = -4.0
    frame = pd.concat([frame, frame.iloc[[5]]], ignore_index=True)
    report = run(frame)
    assert not report.success
    found = failed(report)
    neg = found[("expect_column_values_to_be_between", "y")]
    assert neg.unexpected_count == 1
    assert neg.sample_rows == [{"y": "-4.0", "unique_id": "A@x", "ds": "2024-01-04"}]
    dup = found[("expect_compound_columns_to_be_unique", "['unique_id', 'ds']")]
    assert dup.unexpected_count == 2
    assert {"unique_id": "A@x", "ds": "2024-01-06"} in dup.sample_rows
    message = str(ValidationFailedError(report, "/x/validation.json"))
    assert "demand (test)" in message
    assert "expect_column_values_to_be_between(column=y, min_value=0.0)" in message
    assert "'ds': '2024-01-04'" in message and "Full report: /x/validation.json" in message


def test_dates_outside_window_prices_and_schema_drift() -> None:
    frame = good_frame()
    frame.loc[0, "ds"] = pd.Timestamp("2023-12-31")
    frame.loc[1, "price"] = 0.0
    frame["extra"] = 1
    found = failed(run(frame))
    assert found[("expect_column_values_to_be_between", "ds")].unexpected_count == 1
    assert found[("expect_column_values_to_be_between", "price")].unexpected_count == 1
    drift = next(
        f
        for f in report_failures(frame)
        if f.expectation == "expect_table_columns_to_match_ordered_list"
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


def test_validate_step_writes_report_and_raises(tmp_path: Path) -> None:
    frame = good_frame()
    frame.loc[4, "y"] = -1.0
    frame.to_parquet(tmp_path / "demand.parquet", index=False)
    manifest = {"window": {"start": "2024-01-01", "end": "2024-01-11", "horizon_end": "2024-01-14"}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValidationFailedError, match=r"demand \(.*demand.parquet\)") as info:
        validate_step(str(tmp_path))
    assert info.value.report_path == str(tmp_path / "validation.json")
    saved = json.loads((tmp_path / "validation.json").read_text())
    assert saved["success"] is False
    assert any(
        f["expectation"] == "expect_column_values_to_be_between" and not f["success"]
        for f in saved["findings"]
    )
