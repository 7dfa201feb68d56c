"""Open-source peer forecasters that the project's models are benchmarked against.

Every peer runs with standard, documented settings (nothing tuned on the benchmark data)
and returns the same frame: a point forecast plus P10/P50/P90 for each series and day.

Peers (:data:`PEER_NAMES`):

* ``sf_seasonal_naive``: statsforecast ``SeasonalNaive(season_length=7)``, native
  (Gaussian, residual-based) 80% interval.
* ``auto_ets``: statsforecast ``AutoETS(season_length=7)``, native 80% interval, fitted on
  each series' last :data:`ETS_MAX_HISTORY_DAYS` days (model selection over every ETS
  variant on long daily series is by far the slowest step; older data barely moves the
  smoothed states of a weekly-seasonal ETS).
* ``croston``, ``imapa``, ``adida``: statsforecast ``CrostonClassic``, ``IMAPA`` and
  ``ADIDA`` for intermittent demand. They have no native intervals, so they get
  statsforecast's conformal intervals (``ConformalIntervals(h=horizon, n_windows=2)``).
* ``mlf_lgbm``: one global LightGBM model through mlforecast with the usual M5-style
  recipe: lags 1/7/14/21/28, rolling means of lag 1 and lag 7, an expanding mean, calendar
  features, Tweedie objective; recursive multi-step forecasting and mlforecast's conformal
  intervals (``PredictionIntervals(n_windows=2, h=horizon)``). Yearly calendar features
  (``month``, ``dayofyear``) are used only when the history spans at least
  :data:`YEARLY_FEATURES_MIN_DAYS` days: with less than a year or two, the forecast days'
  values were never (or once) seen in training, and trees map unseen values onto whatever
  leaf borders them (on UCI Online Retail, with under a year of data, that made the
  recursive forecasts drift upwards by up to +100% bias).

Conventions: ``forecast`` is the model's mean; ``p50`` equals it; ``p10``/``p90`` are the
lower/upper bounds of the 80% interval. Everything is clipped at zero and the three
quantiles are sorted per row.

Conformal intervals need ``n_windows * horizon + 1`` observations per series. Shorter
series (new products) are left-padded with zero demand up to that length, i.e. the days
before a product's first record are taken as days without sales. The same padding is used
for every peer so that they all see the same data.

statsforecast, mlforecast and lightgbm are the benchmark's own requirements
(``requirements-bench.txt``), not the pipeline's; they are imported only when a peer runs.
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CONFORMAL_WINDOWS",
    "ETS_MAX_HISTORY_DAYS",
    "INTERVAL_LEVEL",
    "PEER_NAMES",
    "SEASON_LENGTH",
    "YEARLY_FEATURES_MIN_DAYS",
    "run_peer",
]

logger = logging.getLogger(__name__)

#: Names accepted by :func:`run_peer`, in report order.
PEER_NAMES: tuple[str, ...] = (
    "sf_seasonal_naive",
    "auto_ets",
    "croston",
    "imapa",
    "adida",
    "mlf_lgbm",
)
#: Central interval level (percent) whose bounds become P10 and P90.
INTERVAL_LEVEL = 80
#: Cross-validation windows behind the conformal intervals.
CONFORMAL_WINDOWS = 2
#: Weekly seasonality of daily demand.
SEASON_LENGTH = 7
#: Worker processes / threads (the benchmark machine has two cores).
N_JOBS = 2
#: ``auto_ets`` fits each series on at most this many most recent days (104 weeks).
ETS_MAX_HISTORY_DAYS = 728
#: ``mlf_lgbm`` adds ``month`` and ``dayofyear`` features only from this history span on.
YEARLY_FEATURES_MIN_DAYS = 730

_STATSFORECAST_PEERS = ("sf_seasonal_naive", "auto_ets", "croston", "imapa", "adida")
_OUTPUT_COLUMNS = ["unique_id", "ds", "forecast", "p10", "p50", "p90"]


def run_peer(name: str, history: pd.DataFrame, horizon: int, seed: int = 0) -> pd.DataFrame:
    """Fit one peer on ``history`` and forecast the ``horizon`` days after its last date.

    Args:
        name: One of :data:`PEER_NAMES`.
        history: Long frame with ``unique_id`` (str), ``ds`` (daily dates, no gaps within a
            series; series may start on different dates but must all end on the same last
            date) and ``y`` (demand, float, >= 0). Other columns are ignored.
        horizon: Days to forecast (>= 1).
        seed: Random seed for peers that use one (``mlf_lgbm``).

    Returns:
        Frame with ``unique_id``, ``ds``, ``forecast``, ``p10``, ``p50``, ``p90``: one row
        per series and future day, sorted by ``unique_id`` and ``ds``. All values are
        non-negative and ``p10 <= p50 <= p90``.

    Raises:
        ValueError: On an unknown peer, a bad horizon or a history that breaks the contract
            above.
    """
    if name not in PEER_NAMES:
        raise ValueError(f"unknown peer {name!r}; expected one of {PEER_NAMES}")
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    frame = _prepare_history(history)
    n_series = frame["unique_id"].nunique()
    frame = _pad_short_series(frame, CONFORMAL_WINDOWS * horizon + 1)
    if name == "auto_ets":
        frame = _last_days(frame, ETS_MAX_HISTORY_DAYS)
    start = time.perf_counter()
    if name in _STATSFORECAST_PEERS:
        raw = _run_statsforecast(name, frame, horizon)
    else:
        raw = _run_mlforecast(frame, horizon, seed)
    out = _finalise(raw)
    expected = n_series * horizon
    if len(out) != expected:
        raise RuntimeError(f"peer {name} returned {len(out)} rows, expected {expected}")
    elapsed = time.perf_counter() - start
    logger.info("peer %s: %d series x %d days in %.1f s", name, n_series, horizon, elapsed)
    return out


def _prepare_history(history: pd.DataFrame) -> pd.DataFrame:
    """Validate the history contract and return a clean ``unique_id, ds, y`` frame."""
    missing = {"unique_id", "ds", "y"} - set(history.columns)
    if missing:
        raise ValueError(f"history lacks columns {sorted(missing)}")
    if history.empty:
        raise ValueError("history is empty: nothing to forecast")
    frame = pd.DataFrame(
        {
            "unique_id": history["unique_id"].astype(str).to_numpy(),
            "ds": pd.to_datetime(history["ds"]).dt.normalize().to_numpy(),
            "y": pd.to_numeric(history["y"]).astype("float64").to_numpy(),
        }
    )
    if frame["y"].isna().any():
        raise ValueError("history has missing y values")
    if (frame["y"] < 0).any():
        raise ValueError("history has negative demand")
    frame = frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    if frame.duplicated(["unique_id", "ds"]).any():
        raise ValueError("history has duplicate (unique_id, ds) rows")
    spans = frame.groupby("unique_id", sort=False)["ds"].agg(["min", "max", "size"])
    if spans["max"].nunique() != 1:
        raise ValueError("all series must end on the same last date")
    days = (spans["max"] - spans["min"]).dt.days + 1
    if (days != spans["size"]).any():
        raise ValueError("series must have one row per day (no gaps)")
    return frame


def _pad_short_series(frame: pd.DataFrame, min_length: int) -> pd.DataFrame:
    """Left-pad series shorter than ``min_length`` days with zero demand."""
    sizes = frame.groupby("unique_id", sort=False).size()
    short = sizes[sizes < min_length]
    if short.empty:
        return frame
    firsts = frame.groupby("unique_id", sort=False)["ds"].min().loc[short.index]
    n_pad = (min_length - short).to_numpy()
    uids = np.repeat(short.index.to_numpy(), n_pad)
    # Offsets -n_pad .. -1 days before each series' first date.
    offsets = np.concatenate([np.arange(-k, 0) for k in n_pad])
    ds = np.repeat(firsts.to_numpy(), n_pad) + pd.to_timedelta(offsets, unit="D").to_numpy()
    pad = pd.DataFrame({"unique_id": uids, "ds": ds, "y": 0.0})
    logger.info("padded %d short series to %d days with zero demand", len(short), min_length)
    out = pd.concat([pad, frame], ignore_index=True)
    return out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def _last_days(frame: pd.DataFrame, days: int) -> pd.DataFrame:
    """Keep each series' last ``days`` days (all series end on the same date)."""
    first_kept = frame["ds"].max() - pd.Timedelta(days=days - 1)
    return frame.loc[frame["ds"] >= first_kept].reset_index(drop=True)


def _run_statsforecast(name: str, frame: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Run one statsforecast model; return ``unique_id, ds, mean, lo, hi``."""
    from statsforecast import StatsForecast
    from statsforecast.models import ADIDA, IMAPA, AutoETS, CrostonClassic, SeasonalNaive
    from statsforecast.utils import ConformalIntervals

    def conformal() -> Any:
        return ConformalIntervals(h=horizon, n_windows=CONFORMAL_WINDOWS)

    models: dict[str, Any] = {
        # SeasonalNaive and AutoETS have native intervals; statsforecast uses them when
        # no ``prediction_intervals`` is given.
        "sf_seasonal_naive": lambda: SeasonalNaive(season_length=SEASON_LENGTH, alias="model"),
        "auto_ets": lambda: AutoETS(season_length=SEASON_LENGTH, alias="model"),
        "croston": lambda: CrostonClassic(alias="model", prediction_intervals=conformal()),
        "imapa": lambda: IMAPA(alias="model", prediction_intervals=conformal()),
        "adida": lambda: ADIDA(alias="model", prediction_intervals=conformal()),
    }
    sf = StatsForecast(models=[models[name]()], freq="D", n_jobs=N_JOBS)
    fcst = sf.forecast(df=frame, h=horizon, level=[INTERVAL_LEVEL])
    fcst = fcst.reset_index() if "unique_id" not in fcst.columns else fcst
    return pd.DataFrame(
        {
            "unique_id": fcst["unique_id"].astype(str).to_numpy(),
            "ds": pd.to_datetime(fcst["ds"]).to_numpy(),
            "mean": fcst["model"].to_numpy(dtype="float64"),
            "lo": fcst[f"model-lo-{INTERVAL_LEVEL}"].to_numpy(dtype="float64"),
            "hi": fcst[f"model-hi-{INTERVAL_LEVEL}"].to_numpy(dtype="float64"),
        }
    )


def _run_mlforecast(frame: pd.DataFrame, horizon: int, seed: int) -> pd.DataFrame:
    """Global LightGBM through mlforecast; return ``unique_id, ds, mean, lo, hi``."""
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import ExpandingMean, RollingMean
    from mlforecast.utils import PredictionIntervals

    model = lgb.LGBMRegressor(
        # Tweedie: the usual M5 objective for non-negative, zero-inflated retail demand.
        objective="tweedie",
        tweedie_variance_power=1.1,
        n_estimators=500,
        learning_rate=0.05,
        num_leaves=63,
        min_child_samples=20,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=seed,
        deterministic=True,
        force_col_wise=True,
        n_jobs=N_JOBS,
        verbosity=-1,
    )
    span_days = (frame["ds"].max() - frame["ds"].min()).days + 1
    date_features = ["dayofweek", "day"]
    if span_days >= YEARLY_FEATURES_MIN_DAYS:
        date_features += ["month", "dayofyear"]
    mlf = MLForecast(
        models={"lgbm": model},
        freq="D",
        lags=[1, 7, 14, 21, 28],
        lag_transforms={
            1: [RollingMean(window_size=7), RollingMean(window_size=28), ExpandingMean()],
            7: [RollingMean(window_size=7), RollingMean(window_size=28)],
        },
        date_features=date_features,
        num_threads=N_JOBS,
    )
    # static_features=[]: the frame has only unique_id/ds/y, and the id must not become a
    # feature (mlforecast treats every extra column as static when this is None).
    with warnings.catch_warnings():
        # Early days of short series have undefined lags; LightGBM handles the NaNs, and
        # mlforecast warns about them once per recursive step.
        warnings.filterwarnings("ignore", message="Found null values", category=UserWarning)
        warnings.filterwarnings("ignore", message="The following series were dropped")
        mlf.fit(
            frame,
            static_features=[],
            prediction_intervals=PredictionIntervals(n_windows=CONFORMAL_WINDOWS, h=horizon),
        )
        fcst = mlf.predict(h=horizon, level=[INTERVAL_LEVEL])
    return pd.DataFrame(
        {
            "unique_id": fcst["unique_id"].astype(str).to_numpy(),
            "ds": pd.to_datetime(fcst["ds"]).to_numpy(),
            "mean": fcst["lgbm"].to_numpy(dtype="float64"),
            "lo": fcst[f"lgbm-lo-{INTERVAL_LEVEL}"].to_numpy(dtype="float64"),
            "hi": fcst[f"lgbm-hi-{INTERVAL_LEVEL}"].to_numpy(dtype="float64"),
        }
    )


def _finalise(raw: pd.DataFrame) -> pd.DataFrame:
    """Clip at zero, sort the quantiles per row and name the columns."""
    values = raw[["mean", "lo", "hi"]].to_numpy(dtype="float64")
    if not np.isfinite(values[:, 0]).all():
        raise RuntimeError("peer returned non-finite point forecasts")
    # A missing bound (should not happen) falls back to the point forecast.
    values = np.where(np.isfinite(values), values, values[:, [0]])
    values = np.clip(values, 0.0, None)
    point = values[:, 0]
    quantiles = np.sort(values[:, [1, 0, 2]], axis=1)
    out = pd.DataFrame(
        {
            "unique_id": raw["unique_id"].to_numpy(),
            "ds": raw["ds"].to_numpy(),
            "forecast": point,
            "p10": quantiles[:, 0],
            "p50": quantiles[:, 1],
            "p90": quantiles[:, 2],
        }
    )
    return out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)[
        _OUTPUT_COLUMNS
    ]
