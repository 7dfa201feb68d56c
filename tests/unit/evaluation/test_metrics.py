import numpy as np
import pandas as pd
import pytest

from forecasting.evaluation.calibration import IntervalCalibrator
from forecasting.evaluation.metrics import pinball, score_forecasts, series_scales


def frame(y, f, p10, p90, mae1=1.0, mse1=1.0, mae7=2.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": "a",
            "window": 0,
            "y": y,
            "forecast": f,
            "p10": p10,
            "p50": f,
            "p90": p90,
            "mae1": mae1,
            "mse1": mse1,
            "mae7": mae7,
        }
    )


def test_metrics_by_hand() -> None:
    f = frame(
        y=[2.0, 4.0, 0.0, 4.0],
        f=[3.0, 3.0, 1.0, 3.0],
        p10=[1, 3.5, 0, 1],
        p90=[5, 3.9, 2, 4],
        mse1=4.0,
    )
    m = score_forecasts(f)
    assert m["wape"] == pytest.approx(4 / 10)
    assert m["bias"] == pytest.approx(0.0)
    assert m["rmsse"] == pytest.approx(np.sqrt(1.0) / 2.0)  # errors all 1, scale sqrt(4)
    assert m["mase"] == pytest.approx(1.0 / 2.0)
    assert m["coverage"] == pytest.approx(3 / 4)  # the second actual (4) is above P90 3.9
    assert m["spl_50"] == pytest.approx(0.5)
    expected_10 = np.mean(pinball(np.array([2, 4, 0, 4.0]), np.array([1, 3.5, 0, 1.0]), 0.1))
    assert m["spl_10"] == pytest.approx(expected_10)
    assert m["spl"] == pytest.approx(np.mean([m["spl_10"], m["spl_50"], m["spl_90"]]))


def test_series_with_zero_scale_are_left_out() -> None:
    good = frame(y=[1.0, 1.0], f=[2.0, 2.0], p10=[0, 0], p90=[3, 3])
    flat = frame(
        y=[1.0, 1.0], f=[5.0, 5.0], p10=[0, 0], p90=[9, 9], mae1=0.0, mse1=0.0, mae7=0.0
    ).assign(unique_id="b")
    m = score_forecasts(pd.concat([good, flat]))
    assert m["rmsse"] == pytest.approx(1.0)
    assert m["n_series"] == 2
    with pytest.raises(ValueError):
        score_forecasts(good.iloc[:0])


def test_series_scales_use_history_up_to_cutoff() -> None:
    y = np.array([[np.nan, 1, 3, 1, 3, 1, 3, 1, 3, 100.0]])
    s = series_scales(y, cutoff=8)
    assert s.loc[0, "mae1"] == pytest.approx(2.0)
    assert s.loc[0, "mse1"] == pytest.approx(4.0)
    assert s.loc[0, "mae7"] == pytest.approx(2.0)  # only y[8] - y[1] = 3 - 1; y[0] is unknown


def test_calibrator_reaches_target_coverage() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(100, 10, 20_000)
    narrow = pd.DataFrame({"y": y, "p50": 100.0, "p10": 100 - 5.0, "p90": 100 + 5.0})
    cal = IntervalCalibrator.fit(narrow)
    assert cal.lower > 2 and cal.upper > 2  # the true P10/P90 are 12.8 away, not 5
    out = cal.apply(narrow)
    coverage = ((out["p10"] <= y) & (y <= out["p90"])).mean()
    assert coverage == pytest.approx(0.8, abs=0.01)
    assert (y < out["p10"]).mean() == pytest.approx(0.1, abs=0.01)


def test_calibrator_with_many_zeros_moves_the_upper_tail() -> None:
    rng = np.random.default_rng(1)
    y = np.where(rng.random(20_000) < 0.6, 0.0, rng.poisson(4, 20_000))
    raw = pd.DataFrame({"y": y, "p50": 0.0, "p10": 0.0, "p90": 2.0})
    cal = IntervalCalibrator.fit(raw)
    out = cal.apply(raw)
    coverage = ((out["p10"] <= y) & (y <= out["p90"])).mean()
    assert abs(coverage - 0.8) < 0.05
    assert IntervalCalibrator.fit(raw.iloc[:0]) == IntervalCalibrator.identity()
