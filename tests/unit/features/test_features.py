import numpy as np
import pandas as pd
import pytest

from forecasting.features import (
    FeatureSpec,
    Panel,
    Rows,
    build_features,
    scoring_rows,
    training_rows,
)


def make_panel(n_days: int = 60, future: int = 7, start_b: int = 20) -> Panel:
    days = pd.date_range("2024-01-01", periods=n_days)
    a = pd.DataFrame(
        {"unique_id": "a", "ds": days, "y": np.arange(n_days, dtype=float), "price": 2.0}
    )
    b_days = days[start_b:]
    b = pd.DataFrame({"unique_id": "b", "ds": b_days, "y": 5.0, "price": 1.0})
    b.loc[b.index[-3], "y"] = 0.0
    fut_days = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=future)
    fut = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], future),
            "ds": np.tile(fut_days, 2),
            "price": 2.0,
            "promo_discount": 0.0,
        }
    )
    fut.loc[fut.index[2], "promo_discount"] = 0.3
    events = pd.DataFrame(
        {"ds": [days[10], fut_days[1]], "name": ["x", "y"], "kind": ["holiday", "shopping"]}
    )
    return Panel.from_long(pd.concat([a, b]), fut, events)


SPEC = FeatureSpec(
    lags=(0, 1, 7),
    windows=(7, 28),
    dispersion_windows=(7,),
    same_weekday_weeks=(1, 2),
    yearly=False,
    scale_window=28,
)


def col(fm, name: str) -> np.ndarray:
    return fm.X[:, fm.names.index(name)]


def test_panel_shape_unknowns_and_roundtrip(tmp_path) -> None:
    p = make_panel()
    assert p.y.shape == (2, 67) and p.n_history == 60
    assert np.isnan(p.y[1, :20]).all() and not np.isnan(p.y[1, 20:60]).any()
    assert np.isnan(p.y[:, 60:]).all()
    assert p.promo[0, 62] == pytest.approx(0.3)
    assert p.calendar["is_holiday"].iloc[10] == 1 and p.calendar["is_shopping_day"].iloc[61] == 1
    q = Panel.load(p.save(tmp_path / "panel"))
    np.testing.assert_array_equal(q.y, p.y)
    pd.testing.assert_frame_equal(q.ids, p.ids)
    assert q.n_history == p.n_history
    np.testing.assert_allclose(q.calendar.to_numpy(), p.calendar.to_numpy())


def test_truncate_hides_the_future() -> None:
    p = make_panel()
    t = p.truncate(40)
    assert t.n_history == 41 and np.isnan(t.y[:, 41:]).all()
    np.testing.assert_array_equal(t.y[:, :41], p.y[:, :41])
    with pytest.raises(ValueError):
        p.truncate(60)


def test_feature_values_by_hand() -> None:
    p = make_panel()
    rows = Rows(np.array([0, 0]), np.array([59, 59]), np.array([1, 7]))
    fm = build_features(p, rows, SPEC)
    assert fm.names == SPEC.feature_names()
    scale = np.mean(np.arange(32, 60))  # mean of the last 28 days of series a
    assert fm.scale[0] == pytest.approx(scale)
    assert col(fm, "lag_0")[0] == pytest.approx(59 / scale)
    assert col(fm, "lag_7")[0] == pytest.approx(52 / scale)
    assert col(fm, "mean_7")[0] == pytest.approx(np.mean(np.arange(53, 60)) / scale)
    # Target day 60 (h=1) is a Friday like day 53; the last same weekday at or before the origin.
    assert col(fm, "same_weekday_mean_1w")[0] == pytest.approx(53 / scale)
    assert col(fm, "same_weekday_mean_2w")[0] == pytest.approx((53 + 46) / 2 / scale)
    # h = 7: the target's weekday last appeared at day 59 (the origin itself).
    assert col(fm, "same_weekday_mean_1w")[1] == pytest.approx(59 / scale)
    assert col(fm, "horizon").tolist() == [1, 7]
    assert col(fm, "cal_is_shopping_day").tolist() == [0, 0]
    assert col(fm, "std_7")[0] == pytest.approx(np.std(np.arange(53, 60)) / scale, rel=1e-5)


def test_no_leakage_from_after_the_origin() -> None:
    p = make_panel()
    rows = scoring_rows(p.truncate(45), horizon=7)
    before = build_features(p.truncate(45), rows, SPEC).X
    changed = p.truncate(45)
    changed.y[:, 46:] = 1e6  # anything after the origin must not matter
    after = build_features(changed, rows, SPEC).X
    np.testing.assert_array_equal(np.nan_to_num(before, nan=-1), np.nan_to_num(after, nan=-1))


def test_training_rows_stay_inside_history_and_cover_weekdays() -> None:
    p = make_panel()
    fm, target = training_rows(
        p, horizon=7, spec=SPEC, origin_stride=3, max_origins=10, max_rows=None
    )
    assert (fm.rows.target <= p.last_history_index).all()
    assert len(target) == len(fm.rows) and np.isfinite(target).all()
    assert set((fm.rows.origin % 7).tolist()) == set(range(7))
    np.testing.assert_allclose(target, p.y[fm.rows.series, fm.rows.target] / fm.scale)
    # Series b starts on day 20: no rows before it has a week of history.
    assert (fm.rows.origin[fm.rows.series == 1] >= 26).all()
    small, _ = training_rows(p, horizon=7, spec=SPEC, max_rows=25, seed=1)
    again, _ = training_rows(p, horizon=7, spec=SPEC, max_rows=25, seed=1)
    assert len(small.rows) == 25
    np.testing.assert_array_equal(small.rows.origin, again.rows.origin)


def test_scoring_needs_future_covariates() -> None:
    with pytest.raises(ValueError, match="covariates"):
        scoring_rows(make_panel(future=3), horizon=7)


def test_spec_rejects_bad_declarations() -> None:
    with pytest.raises(ValueError):
        FeatureSpec(calendar=("moon_phase",))
    with pytest.raises(ValueError):
        FeatureSpec(same_weekday_weeks=(4, 2))
    assert FeatureSpec.from_dict(SPEC.to_dict()) == SPEC
