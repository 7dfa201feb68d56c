import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from forecasting.evaluation.calibration import IntervalCalibrator
from forecasting.features import Panel
from forecasting.models import CalibratedForecaster, load_forecaster, make_model
from forecasting.models.ensemble import EnsembleForecaster
from forecasting.models.naive import SeasonalNaive

H = 14
SMALL = {
    "linear": {"max_origins": 20},
    "linear_hurdle": {"max_origins": 20},
    "hgb": {"max_iter": 15, "max_origins": 20},
    "hgb_boosted": {"max_iter": 15, "max_origins": 20, "quantile_method": "boosted"},
    "mlp": {"epochs": 1, "hidden": [16], "max_origins": 20, "batch_size": 256},
}


def check_forecast(frame: pd.DataFrame, panel: Panel, horizon: int) -> None:
    assert len(frame) == panel.n_series * horizon
    assert list(frame.columns) == ["unique_id", "ds", "horizon", "forecast", "p10", "p50", "p90"]
    values = frame[["forecast", "p10", "p50", "p90"]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    assert (frame["p10"] <= frame["p50"]).all() and (frame["p50"] <= frame["p90"]).all()
    assert frame["ds"].min() == panel.dates[panel.n_history]
    assert not frame.duplicated(["unique_id", "ds"]).any()


def test_seasonal_naive_repeats_last_week(shop_panel: Panel) -> None:
    out = SeasonalNaive().fit(shop_panel).predict(shop_panel, H)
    check_forecast(out, shop_panel, H)
    last = shop_panel.last_history_index
    first = out.loc[out["unique_id"] == shop_panel.ids["unique_id"][0]].sort_values("horizon")
    expected = np.concatenate([shop_panel.y[0, last - 6 : last + 1]] * 2)
    np.testing.assert_array_equal(first["forecast"].to_numpy(), expected)


@pytest.mark.parametrize("name", ["linear", "linear_hurdle", "hgb", "hgb_boosted", "mlp"])
def test_models_forecast_contract_and_determinism(name: str, shop_panel: Panel, tmp_path) -> None:
    family = name.removesuffix("_boosted")
    model = make_model(family, horizon=H, seed=7, params=SMALL[name])
    assert clone(model).get_params() == model.get_params()  # estimator contract
    out = model.fit(shop_panel).predict(shop_panel, H)
    check_forecast(out, shop_panel, H)
    # A seasonal, non-trivial forecast: not one constant.
    assert out["forecast"].std() > 0
    again = (
        make_model(family, horizon=H, seed=7, params=SMALL[name])
        .fit(shop_panel)
        .predict(shop_panel, H)
    )
    pd.testing.assert_frame_equal(out, again)
    loaded = load_forecaster(model.save(tmp_path / name))
    pd.testing.assert_frame_equal(loaded.predict(shop_panel, H), out)


def test_direct_models_refuse_longer_horizons(shop_panel: Panel) -> None:
    model = make_model("linear", horizon=7, params=SMALL["linear"]).fit(shop_panel)
    with pytest.raises(ValueError, match="trained for horizon 7"):
        model.predict(shop_panel, 14)


def test_unfitted_and_bad_params_are_clear() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SeasonalNaive().predict(None, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hgb has no parameter 'trees'; it takes"):
        make_model("hgb", horizon=7, params={"trees": 3})
    with pytest.raises(ValueError, match="unknown model"):
        make_model("prophet", horizon=7)


def test_ensemble_averages_members_and_calibration_rescales(shop_panel: Panel, tmp_path) -> None:
    a = make_model("linear", horizon=H, params=SMALL["linear"]).fit(shop_panel)
    b = SeasonalNaive().fit(shop_panel)
    ens = EnsembleForecaster([("linear", a), ("naive", b)], weights=[3, 1]).fit(shop_panel)
    out = ens.predict(shop_panel, H)
    pa, pb = a.predict(shop_panel, H), b.predict(shop_panel, H)
    np.testing.assert_allclose(
        out["forecast"], 0.75 * pa["forecast"] + 0.25 * pb["forecast"], rtol=1e-9
    )
    loaded = load_forecaster(ens.save(tmp_path / "ens"))
    pd.testing.assert_frame_equal(loaded.predict(shop_panel, H), out)

    cal = CalibratedForecaster(a, IntervalCalibrator(lower=2.0, upper=0.5), "linear")
    wide = cal.predict(shop_panel, H)
    np.testing.assert_allclose(wide["p90"] - wide["p50"], 0.5 * (pa["p90"] - pa["p50"]))
    np.testing.assert_allclose(
        wide["p10"], np.clip(pa["p50"] - 2.0 * (pa["p50"] - pa["p10"]), 0, None)
    )
    pd.testing.assert_frame_equal(
        load_forecaster(cal.save(tmp_path / "cal")).predict(shop_panel, H), wide
    )


def test_ensemble_takes_quantiles_from_named_members_only(shop_panel: Panel) -> None:
    a = make_model("linear", horizon=H, params=SMALL["linear"]).fit(shop_panel)
    b = SeasonalNaive().fit(shop_panel)
    ens = EnsembleForecaster([("linear", a), ("naive", b)], quantile_members=["naive"]).fit(
        shop_panel
    )
    out, pa, pb = (m.predict(shop_panel, H) for m in (ens, a, b))
    np.testing.assert_allclose(out["forecast"], 0.5 * pa["forecast"] + 0.5 * pb["forecast"])
    np.testing.assert_allclose(out[["p10", "p50", "p90"]], pb[["p10", "p50", "p90"]])
    bad = EnsembleForecaster([("linear", a), ("naive", b)], quantile_members=["mlp"]).fit(
        shop_panel
    )
    with pytest.raises(ValueError, match="quantile_members"):
        bad.predict(shop_panel, H)


def test_hurdle_model_handles_series_that_always_sell() -> None:
    days = pd.date_range("2023-01-01", periods=200)
    rng = np.random.default_rng(0)
    hist = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 200),
            "ds": np.tile(days, 2),
            "y": rng.poisson(30, 400) + 1.0,
        }
    )
    fut = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 7),
            "ds": np.tile(pd.date_range("2023-07-20", periods=7), 2),
        }
    )
    panel = Panel.from_long(hist, fut)
    model = make_model("linear_hurdle", horizon=7, params={"max_origins": 20}).fit(panel)
    assert model.classifier_ is None and model.p_sale_ == 1.0
    check_forecast(model.predict(panel, 7), panel, 7)


def test_recency_weights_change_the_fit(shop_panel: Panel) -> None:
    plain = make_model("linear", horizon=H, params=SMALL["linear"]).fit(shop_panel)
    recent = make_model("linear", horizon=H, params={**SMALL["linear"], "recency_halflife": 7}).fit(
        shop_panel
    )
    assert not np.allclose(plain.regressor_.coef_, recent.regressor_.coef_)
