"""Web behaviour as past covariates: attached to the panel, read up to the origin only."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from forecasting.behaviour.events import DAILY_COLUMNS, empty_daily
from forecasting.features import (
    FeatureSpec,
    Panel,
    Rows,
    build_features,
    scoring_rows,
    training_rows,
)
from forecasting.features.behaviour import (
    BEHAVIOUR_FEATURES,
    SMOOTHING_VIEWS,
    attach_behaviour,
    has_behaviour,
)

N_DAYS, FUTURE, LOG_START = 120, 7, 60
SPEC = FeatureSpec(
    lags=(0, 1),
    windows=(7, 28),
    dispersion_windows=(7,),
    same_weekday_weeks=(1,),
    yearly=False,
    scale_window=28,
)
WITH = FeatureSpec(**{**SPEC.to_dict(), "behaviour": True})


def make_panel() -> Panel:
    days = pd.date_range("2024-01-01", periods=N_DAYS)
    rng = np.random.default_rng(0)
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"{sku}@{loc}",
                "sku": sku,
                "location_id": loc,
                "ds": days,
                "y": rng.poisson(3.0, N_DAYS).astype(float),
                "price": 2.0,
            }
        )
        for sku, loc in (("s1", "L1"), ("s1", "L2"), ("s2", "L1"))
    ]
    future = pd.DataFrame(
        {
            "unique_id": np.repeat(["s1@L1", "s1@L2", "s2@L1"], FUTURE),
            "ds": np.tile(pd.date_range(days[-1] + pd.Timedelta(days=1), periods=FUTURE), 3),
            "price": 2.0,
        }
    )
    return Panel.from_long(pd.concat(frames, ignore_index=True), future)


def make_daily(panel: Panel) -> pd.DataFrame:
    """Behaviour of s1@L1 every other day from LOG_START (s2@L1 once; s1@L2 none)."""
    days = panel.dates[LOG_START : panel.n_history : 2]
    n = len(days)
    rows = pd.DataFrame(
        {
            "sku": "s1",
            "location_id": "L1",
            "ds": days,
            "views": np.arange(n) * 10 + 5,
            "sessions": np.arange(n) + 3,
            "cart_adds": np.arange(n) % 4,
            "cart_removes": 1,
            "wishlist_adds": np.arange(n) % 2,
            "searches": 2,
        }
    )
    other = rows.iloc[:1].assign(sku="s2", views=40)
    return pd.concat([rows, other], ignore_index=True).loc[:, list(DAILY_COLUMNS)]


def hand_mean(values: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Mean daily value over the covered days in [start, end] (no row: 0)."""
    start = max(start, pd.Timestamp("2024-01-01") + pd.Timedelta(days=LOG_START))
    days = pd.date_range(start, end)
    return float(values.reindex(days, fill_value=0).sum() / len(days))


def feature(fm, name: str) -> np.ndarray:
    return fm.X[:, fm.names.index(name)].astype(float)


def test_features_match_hand_sums() -> None:
    panel = make_panel()
    daily = make_daily(panel)
    attached = attach_behaviour(panel, daily)
    assert has_behaviour(attached)
    origin = N_DAYS - 1
    rows = Rows(np.array([0, 0, 1, 2]), np.full(4, origin), np.array([1, 5, 1, 1]))
    fm = build_features(attached, rows, WITH)
    assert fm.names[-len(BEHAVIOUR_FEATURES) :] == list(BEHAVIOUR_FEATURES)
    d = panel.dates[origin]
    mine = daily.loc[daily["sku"].eq("s1")].set_index("ds")
    scale = fm.scale[0]
    for count, w in (("views", 7), ("views", 1), ("sessions", 28), ("cart_adds", 7)):
        expected = hand_mean(mine[count], d - pd.Timedelta(days=w - 1), d) / scale
        got = feature(fm, f"beh_{count}_{w}")
        assert got[0] == pytest.approx(expected, rel=1e-5)
        assert got[1] == got[0]  # horizons share the origin's values
    views_28 = hand_mean(mine["views"], d - pd.Timedelta(days=27), d)
    views_3 = hand_mean(mine["views"], d - pd.Timedelta(days=2), d)
    assert feature(fm, "beh_view_trend")[0] == pytest.approx((views_3 + 1) / (views_28 + 1))
    # Conversion: units over views (28 days), pulled to the panel's rate by pseudo-views.
    window = slice(origin - 27, origin + 1)
    units = panel.y[:, window].sum(axis=1)
    views = np.array([views_28 * 28, 0.0, 0.0])  # s2's one day is before the window
    rate = units.sum() / views.sum()
    expected = (units + SMOOTHING_VIEWS * rate) / (views + SMOOTHING_VIEWS)
    assert feature(fm, "beh_conversion_28")[[0, 2, 3]] == pytest.approx(expected, rel=1e-5)
    # A covered series without events has zero views, not missing ones.
    assert feature(fm, "beh_views_7")[2] == 0.0


def test_days_before_the_log_are_missing_not_zero() -> None:
    panel = attach_behaviour(make_panel(), make_daily(make_panel()))
    rows = Rows(np.array([0, 0, 0]), np.array([LOG_START - 1, LOG_START + 2, 100]), np.ones(3, int))
    fm = build_features(panel, rows, WITH)
    views_28 = feature(fm, "beh_views_28")
    assert np.isnan(views_28[0])  # the log had not started
    # Three covered days (60, 61, 62): views 5 on day 60, 15 on day 62; mean over 3 days.
    assert views_28[1] == pytest.approx((5 + 15) / 3 / fm.scale[1], rel=1e-5)
    assert np.isfinite(views_28[2])


def test_behaviour_after_the_origin_is_never_read() -> None:
    panel = make_panel()
    daily = make_daily(panel)
    origin = 100
    changed = daily.copy()
    after = changed["ds"] > panel.dates[origin]
    assert after.any()
    changed.loc[after, ["views", "sessions", "cart_adds", "searches"]] *= 50
    spike = pd.DataFrame(
        {
            "sku": "s1",
            "location_id": "L2",
            "ds": panel.dates[origin + 1],
            **dict.fromkeys(
                ["views", "sessions", "cart_adds", "cart_removes", "wishlist_adds", "searches"], 999
            ),
        },
        index=[0],
    )
    changed = pd.concat([changed, spike], ignore_index=True)
    s, h = np.meshgrid(np.arange(3), np.arange(1, 8), indexing="ij")
    rows = Rows(s.ravel(), np.full(s.size, origin), h.ravel())
    first = pd.Timestamp(panel.dates[LOG_START])
    before = build_features(attach_behaviour(panel, daily, first_day=first), rows, WITH)
    later = build_features(attach_behaviour(panel, changed, first_day=first), rows, WITH)
    assert np.isfinite(before.X[:, -len(BEHAVIOUR_FEATURES) :]).all()  # read, and known
    np.testing.assert_array_equal(before.X, later.X)
    # The same change from the origin on does reach the rows (the check can fail).
    on_origin = changed.assign(ds=changed["ds"] - pd.Timedelta(days=1))
    moved = build_features(attach_behaviour(panel, on_origin, first_day=first), rows, WITH)
    assert not np.array_equal(before.X, moved.X)
    # ... and a backtest's truncated panel hides it too.
    truncated = attach_behaviour(panel, changed).truncate(origin)
    assert np.isnan(truncated.daily["web_views"][:, origin + 1 :]).all()


def test_a_panel_without_behaviour_is_unchanged() -> None:
    panel = make_panel()
    assert attach_behaviour(panel, empty_daily()) is panel
    assert not has_behaviour(panel)
    base, target = training_rows(panel, 7, SPEC, origin_stride=5, max_origins=10)
    assert "beh_views_7" not in base.names
    # The switch on a panel without behaviour: the same rows, and NaN behaviour columns.
    on, target_on = training_rows(panel, 7, WITH, origin_stride=5, max_origins=10)
    np.testing.assert_array_equal(on.X[:, : len(base.names)], base.X)
    np.testing.assert_array_equal(target_on, target)
    assert np.isnan(on.X[:, len(base.names) :]).all()


def test_a_frame_without_the_contract_columns_is_refused() -> None:
    with pytest.raises(ValueError, match=r"behaviour frame lacks columns \['views'\]"):
        attach_behaviour(make_panel(), make_daily(make_panel()).drop(columns="views"))


def test_behaviour_survives_save_and_load(tmp_path) -> None:
    panel = attach_behaviour(make_panel(), make_daily(make_panel()))
    loaded = Panel.load(panel.save(tmp_path / "panel"))
    np.testing.assert_array_equal(loaded.daily["web_views"], panel.daily["web_views"])


def test_build_features_step_attaches_the_extracts_behaviour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecasting.artifacts import EXTRACT_BEHAVIOUR
    from forecasting.pipelines.demand.steps import build_features as step
    from forecasting.sharding import Shard
    from forecasting.storage import Storage

    panel = make_panel()
    long = panel.to_long().merge(panel.ids, on="unique_id")
    history = long.loc[long["ds"] <= panel.dates[panel.last_history_index]]
    future = long.loc[long["ds"] > panel.dates[panel.last_history_index]].drop(columns="y")
    extract = SimpleNamespace(
        history=history, future=future, events=pd.DataFrame(columns=["ds", "name", "kind"])
    )
    extract_manifest: dict = {"window": {}}
    monkeypatch.setattr(step, "read_partition", lambda _: (extract, extract_manifest))
    storage = Storage.from_uri((tmp_path / "store").as_uri())
    monkeypatch.setattr(Storage, "open", lambda self, uri: uri)
    resources = SimpleNamespace(storage=storage)
    run_day = panel.dates[panel.last_history_index].date()

    def run(folder: Path) -> tuple[dict, Panel]:
        validated = SimpleNamespace(shard=Shard(0, 1), extract_uri=str(folder))
        out = step.build_features_step(run_day, validated, resources)  # type: ignore[arg-type]
        built = Path(storage.path(out.uri).path)
        return json.loads((built / "features.json").read_text()), Panel.load(built / "panel")

    manifest, without = run(tmp_path / "no-events")
    assert manifest["behaviour"] == {"attached": False} and not has_behaviour(without)
    (tmp_path / "events").mkdir()
    daily = make_daily(panel)
    daily.to_parquet(tmp_path / "events" / EXTRACT_BEHAVIOUR, index=False)
    manifest, built = run(tmp_path / "events")
    assert manifest["behaviour"]["attached"] and manifest["behaviour"]["rows"] == len(daily)
    assert manifest["behaviour"]["first_day"] == str(panel.dates[LOG_START].date())
    views = built.daily["web_views"]
    assert np.nansum(views) == daily["views"].sum()
    assert np.isnan(views[:, :LOG_START]).all() and (views[1, LOG_START:N_DAYS] == 0).all()
    np.testing.assert_array_equal(built.y, without.y)
    # The extract's own frame and the days its manifest says the event store covers: a
    # shard without an event in them has zero behaviour there, not missing behaviour.
    extract.behaviour = empty_daily()
    extract_manifest["behaviour"] = {"first_day": str(panel.dates[50].date()), "last_day": None}
    manifest, quiet = run(tmp_path / "no-events")
    assert manifest["behaviour"]["first_day"] == str(panel.dates[50].date())
    assert (quiet.daily["web_views"][:, 50:N_DAYS] == 0).all()
    assert np.isnan(quiet.daily["web_views"][:, :50]).all()


def test_scoring_reads_behaviour_up_to_the_runs_day() -> None:
    panel = make_panel()
    daily = make_daily(panel)
    run_day = panel.dates[panel.last_history_index]
    daily = pd.concat([daily, daily.iloc[:1].assign(ds=run_day, views=70)], ignore_index=True)
    attached = attach_behaviour(panel, daily)
    fm = build_features(attached, scoring_rows(attached, FUTURE), WITH)
    assert (fm.rows.origin == panel.last_history_index).all()
    first = fm.rows.series == 0
    np.testing.assert_allclose(feature(fm, "beh_views_1")[first], 70 / fm.scale[first], rtol=1e-5)
