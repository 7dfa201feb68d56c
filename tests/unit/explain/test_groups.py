from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from forecasting.explain.groups import (
    EVENT_CALENDAR_COLUMNS,
    REFERENCE_DAYS,
    applicable_groups,
    reference_level,
    reference_panel,
)
from forecasting.features import Panel


def tiny(days: int = 40) -> Panel:
    """Two series: A sells 1, 2, 3, ... with a gap; B starts late and is promoted once."""
    ds = pd.date_range("2024-01-01", periods=days)
    a = pd.DataFrame(
        {
            "unique_id": "A@x",
            "sku": "A",
            "location_id": "x",
            "ds": ds,
            "y": np.arange(1.0, days + 1),
            "price": 5.0,
            "promo_discount": 0.0,
        }
    )
    a.loc[days - 3, "y"] = np.nan  # an excluded day
    b = pd.DataFrame(
        {
            "unique_id": "B@x",
            "sku": "B",
            "location_id": "x",
            "ds": ds[-10:],
            "y": 4.0,
            "price": [8.0] * 9 + [6.0],
            "promo_discount": [0.0] * 9 + [0.25],
        }
    )
    future = pd.DataFrame(
        {
            "unique_id": ["A@x", "B@x"],
            "ds": ds[-1] + pd.Timedelta(days=1),
            "price": [5.0, 4.0],
            "promo_discount": [0.0, 0.5],
        }
    )
    events = pd.DataFrame({"ds": [ds[5]], "name": ["Day"], "kind": ["holiday"]})
    return Panel.from_long(pd.concat([a, b]), future, events)


def test_reference_level_is_the_mean_of_the_last_known_days() -> None:
    panel = tiny()
    y = panel.y[0, : panel.n_history]
    known = y[~np.isnan(y)][-REFERENCE_DAYS:]
    np.testing.assert_allclose(reference_level(panel), [known.mean(), 4.0])


def test_sales_history_flat_but_unknown_days_stay_unknown() -> None:
    panel = tiny()
    ref = reference_panel(panel, ["sales_history"])
    level = reference_level(panel)
    np.testing.assert_array_equal(np.isnan(ref.y), np.isnan(panel.y))
    known = ~np.isnan(ref.y)
    np.testing.assert_allclose(ref.y[known], np.broadcast_to(level[:, None], ref.y.shape)[known])
    np.testing.assert_array_equal(ref.price, panel.price)  # nothing else moved


def test_price_promotions_reference_is_the_recent_median_and_no_promotion() -> None:
    panel = tiny()
    ref = reference_panel(panel, ["price_promotions"])
    assert (ref.promo == 0).all()
    np.testing.assert_allclose(ref.price[0], 5.0)
    np.testing.assert_allclose(ref.price[1], 8.0)  # median of its 28 days (bfilled 8s and a 6)
    np.testing.assert_array_equal(ref.y, panel.y, strict=False)


def test_calendar_events_removes_events_and_keeps_the_date_features() -> None:
    panel = tiny()
    ref = reference_panel(panel, ["calendar_events"])
    assert ref.calendar["is_holiday"].sum() == 0 and panel.calendar["is_holiday"].sum() == 1
    assert (ref.calendar["days_to_event"] == 14).all()
    plain = [c for c in panel.calendar.columns if c not in EVENT_CALENDAR_COLUMNS]
    pd.testing.assert_frame_equal(ref.calendar[plain], panel.calendar[plain])


def test_applicable_groups_follow_the_panel() -> None:
    panel = tiny()
    assert applicable_groups(panel) == ["sales_history", "price_promotions", "calendar_events"]
    quiet = replace(
        reference_panel(panel, ["price_promotions", "calendar_events"]),
        daily={"reviews": np.zeros(panel.y.shape), "web_views": np.ones(panel.y.shape)},
    )
    assert applicable_groups(quiet) == ["sales_history", "reviews", "behaviour"]
    assert applicable_groups(quiet, daily=False) == ["sales_history"]
    flat = reference_panel(quiet, ["behaviour"])
    np.testing.assert_allclose(flat.daily["web_views"][:, : panel.n_history], 1.0)


def test_unknown_group_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown input group 'weather'"):
        reference_panel(tiny(), ["weather"])
