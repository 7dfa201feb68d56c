from datetime import date, timedelta

from forecasting.config import DataChecks
from forecasting.validation import catalogue_checks

DAY = date(2024, 6, 30)  # a Sunday
CHECKS = DataChecks()
QUALITY = {
    "line_count": 1000,
    "null_sku": 0,
    "unknown_sku": 0,
    "null_location": 0,
    "unknown_location": 0,
}


def totals(latest: float) -> dict[str, float]:
    out = {(DAY - timedelta(days=k)).isoformat(): 100.0 for k in range(1, 35)}
    out[DAY.isoformat()] = latest
    return out


def run(**overrides):
    args = {
        "totals": totals(95.0),
        "series": 50,
        "events": [],
        "quality": QUALITY,
        "previous": {"run_date": "2024-06-29", "series_count": 50},
        "same_date": None,
        "checks": CHECKS,
    }
    args.update(overrides)
    return {f.expectation: f for f in catalogue_checks(DAY, **args)}


def test_a_normal_day_passes_every_check() -> None:
    assert all(f.success for f in run().values())


def test_a_day_with_a_fraction_of_its_usual_orders_is_flagged() -> None:
    low = run(totals=totals(10.0))["latest_day_volume"]
    assert not low.success
    assert "10 units on 2024-06-30 vs median 100" in (low.observed or "")
    assert low.sample_rows[0] == {"ds": "2024-06-30", "units": "10"}
    # A closure day is expected to be quiet.
    closed = run(totals=totals(0.0), events=[{"ds": "2024-06-30", "kind": "closure"}])
    assert closed["latest_day_volume"].success


def test_orphan_order_lines_are_counted_and_gated() -> None:
    bad = run(quality={**QUALITY, "unknown_sku": 40, "null_location": 20})["orphan_order_lines"]
    assert not bad.success and "60 of 1000 lines (6.00%)" in (bad.observed or "")
    assert run(quality={**QUALITY, "unknown_sku": 40})["orphan_order_lines"].success


def test_far_fewer_series_than_published_stops_the_run() -> None:
    shrunk = run(series=10, same_date={"run_date": "2024-06-30", "series_count": 448})
    assert not shrunk["series_vs_published"].success
    assert "this date's published run (2024-06-30) published 448" in (
        shrunk["series_vs_published"].observed or ""
    )
    assert run(series=45)["series_vs_published"].success  # 90 % of yesterday's 50
    assert not run(series=0)["demand_present"].success
