"""What shoppers do on the website before they buy, as past covariates of the demand models.

:func:`attach_behaviour` puts the shard's daily web behaviour (the extract's
``behaviour.parquet``: :data:`forecasting.behaviour.events.DAILY_COLUMNS`) on a
:class:`~forecasting.features.panel.Panel` as daily arrays (``panel.daily["web_views"]``
...), once, where the panel is built (the ``build_features`` step), so training, backtest
and scoring rows read the same values. :meth:`Panel.truncate` hides them after a backtest
origin like demand.

:func:`behaviour_features` turns them into :data:`BEHAVIOUR_FEATURES` at each row's origin
``o``, from days ``<= o`` only: a forecast from ``o`` never sees the behaviour of the days
it forecasts. Days the event log does not cover (before its first day) are missing, not
zero: a window's statistics are over its covered days, NaN when it has none (the tree
models route NaN; the linear and neural models impute medians and add missing flags).

The features (``w``-day windows end at the origin):

* ``beh_views_{1,7,28}``, ``beh_sessions_{7,28}``, ``beh_cart_adds_{7,28}``,
  ``beh_cart_removes_7``, ``beh_wishlist_adds_7``, ``beh_searches_7`` -- mean daily count
  over the window's covered days, over the series' demand scale (like the demand features:
  one global model serves fast and slow movers; views per unit of usual demand);
* ``beh_view_trend`` -- mean daily views of the last 3 days over those of the last 28,
  each plus one (a surge on the website, damped where views are few);
* ``beh_conversion_28`` -- units sold over views in the last 28 days, smoothed towards the
  panel's rate with :data:`SMOOTHING_VIEWS` pseudo-views (the panel's units over its views
  on those days: a series with few views gets about the shop's rate);
* ``beh_cart_share_28`` -- cart adds over views in the last 28 days, smoothed likewise.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd

from forecasting.behaviour.events import DAILY_COLUMNS, DAILY_COUNTS
from forecasting.features.panel import Panel

__all__ = [
    "BEHAVIOUR_ARRAYS",
    "BEHAVIOUR_FEATURES",
    "SMOOTHING_VIEWS",
    "attach_behaviour",
    "behaviour_features",
    "has_behaviour",
]

log = logging.getLogger(__name__)

#: ``panel.daily`` name of each daily count of :data:`DAILY_COUNTS`.
BEHAVIOUR_ARRAYS: dict[str, str] = {c: f"web_{c}" for c in DAILY_COUNTS}
#: (count, window) of the windowed count features, in feature order.
_COUNT_WINDOWS: tuple[tuple[str, int], ...] = (
    ("views", 1),
    ("views", 7),
    ("views", 28),
    ("sessions", 7),
    ("sessions", 28),
    ("cart_adds", 7),
    ("cart_adds", 28),
    ("cart_removes", 7),
    ("wishlist_adds", 7),
    ("searches", 7),
)
#: Feature names of :func:`behaviour_features`, in order.
BEHAVIOUR_FEATURES: tuple[str, ...] = (
    *(f"beh_{count}_{w}" for count, w in _COUNT_WINDOWS),
    "beh_view_trend",
    "beh_conversion_28",
    "beh_cart_share_28",
)
#: Pseudo-views that pull a series' conversion and cart share towards the panel's.
SMOOTHING_VIEWS = 50.0
_TREND_DAYS = 3
_LONG = 28


def has_behaviour(panel: Panel) -> bool:
    """Whether :func:`attach_behaviour` put web behaviour on ``panel``."""
    return BEHAVIOUR_ARRAYS["views"] in panel.daily


def attach_behaviour(
    panel: Panel,
    daily: pd.DataFrame,
    *,
    first_day: pd.Timestamp | None = None,
    last_day: pd.Timestamp | None = None,
) -> Panel:
    """The panel with each series' daily web behaviour in ``panel.daily``.

    Args:
        panel: Panel whose ``ids`` have ``sku`` (and ``location_id``; without it a SKU's
            behaviour at every location is summed onto its one series).
        daily: :data:`DAILY_COLUMNS`, one row per SKU, location and day with any event.
            Rows for series not in the panel or days outside it are ignored. An empty frame
            changes nothing, unless ``first_day`` says which days the log covers (then
            they are zero).
        first_day: The event log's first covered day (default: the frame's first day);
            earlier days are missing (NaN), not zero.
        last_day: Its last covered day (default and at most: the panel's last history
            day, the run's day whose events the extract holds); later days are NaN.

    Returns:
        A new panel with ``daily["web_views"]`` ... (:data:`BEHAVIOUR_ARRAYS`), float32
        arrays of shape ``(n, T)``: the count on covered days (0 without a row), NaN
        elsewhere; or ``panel`` itself when ``daily`` is empty.

    Raises:
        ValueError: If a column of :data:`DAILY_COLUMNS` is missing (naming it).
    """
    missing = set(DAILY_COLUMNS) - set(daily.columns)
    if missing:
        raise ValueError(
            f"behaviour frame lacks columns {sorted(missing)} (needs {list(DAILY_COLUMNS)})"
        )
    if daily.empty and first_day is None:
        return panel
    ds = pd.to_datetime(daily["ds"]).dt.normalize().astype("datetime64[ns]")
    first = pd.Timestamp(first_day) if first_day is not None else ds.min()
    last = panel.dates[panel.last_history_index]
    if last_day is not None:
        last = min(pd.Timestamp(last_day), last)
    day = (ds - panel.dates[0]).dt.days.to_numpy()
    ids = panel.ids
    if "location_id" in ids.columns:
        series_key = ids["sku"].astype(str) + "\x1f" + ids["location_id"].astype(str)
        row_key = daily["sku"].astype(str) + "\x1f" + daily["location_id"].astype(str)
    else:
        series_key, row_key = ids["sku"].astype(str), daily["sku"].astype(str)
    pos = pd.Index(series_key).get_indexer(row_key)
    keep = (pos >= 0) & (day >= 0) & (day < len(panel.dates))
    start = max(0, (first - panel.dates[0]).days)
    stop = (last - panel.dates[0]).days + 1  # exclusive
    keep &= (day >= start) & (day < stop)
    arrays = {k: v for k, v in panel.daily.items() if k not in BEHAVIOUR_ARRAYS.values()}
    for count, name in BEHAVIOUR_ARRAYS.items():
        values = np.full(panel.y.shape, np.nan, dtype="float32")
        if stop > start:
            values[:, start:stop] = 0.0
        np.add.at(values, (pos[keep], day[keep]), daily[count].to_numpy(dtype="float32")[keep])
        arrays[name] = values
    log.info(
        "behaviour attached: %d series-days with events, %d of %d series, days %s..%s",
        int(keep.sum()),
        len(np.unique(pos[keep])),
        panel.n_series,
        pd.Timestamp(first).date(),
        pd.Timestamp(last).date(),
    )
    return replace(panel, daily=arrays)


def behaviour_features(
    panel: Panel, rows_series: np.ndarray, rows_origin: np.ndarray, scale: np.ndarray
) -> list[np.ndarray]:
    """:data:`BEHAVIOUR_FEATURES` of each row, from the days up to its origin.

    Args:
        panel: The panel (all NaN features without :func:`attach_behaviour`).
        rows_series: Each row's series position.
        rows_origin: Each row's origin day index.
        scale: Each row's demand scale (units per day).

    Returns:
        One float64 array per feature, each of the rows' length.
    """
    n_rows = len(rows_series)
    if not has_behaviour(panel):
        return [np.full(n_rows, np.nan) for _ in BEHAVIOUR_FEATURES]
    out = np.full((len(BEHAVIOUR_FEATURES), n_rows), np.nan)
    arrays = {c: panel.daily[name] for c, name in BEHAVIOUR_ARRAYS.items()}
    # Horizons (and often series) share an origin: compute once per origin for every series.
    for origin in np.unique(rows_origin):
        at = np.flatnonzero(rows_origin == origin)
        per_series = _at_origin(panel, arrays, int(origin))
        out[:, at] = per_series[:, rows_series[at]]
    with np.errstate(invalid="ignore", divide="ignore"):
        out[: len(_COUNT_WINDOWS)] /= scale
    return list(out)


def _at_origin(panel: Panel, arrays: dict[str, np.ndarray], origin: int) -> np.ndarray:
    """Every series' features at ``origin`` before scaling, shape ``(features, n)``."""
    lo = max(0, origin - _LONG + 1)
    window = {c: a[:, lo : origin + 1].astype("float64") for c, a in arrays.items()}
    covered = ~np.isnan(window["views"])
    # Sums over the last ``w`` days: reverse cumulative sums along the window.
    rev_cov = np.cumsum(covered[:, ::-1], axis=1)

    def last(values: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
        total = np.cumsum(np.nan_to_num(values[:, ::-1]), axis=1)
        k = min(w, values.shape[1]) - 1
        return total[:, k], rev_cov[:, k]

    def mean(count: str, w: int) -> np.ndarray:
        total, days = last(window[count], w)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(days > 0, total / np.maximum(days, 1), np.nan)

    feats = [mean(count, w) for count, w in _COUNT_WINDOWS]
    views_3 = mean("views", _TREND_DAYS)
    views_28 = mean("views", _LONG)
    feats.append((views_3 + 1.0) / (views_28 + 1.0))
    views, days = last(window["views"], _LONG)
    carts, _ = last(window["cart_adds"], _LONG)
    units = np.where(covered, np.nan_to_num(panel.y[:, lo : origin + 1]), 0.0).sum(axis=1)
    seen = days > 0
    total_views = views[seen].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        shop_rate = units[seen].sum() / total_views if total_views > 0 else np.nan
        shop_cart = carts[seen].sum() / total_views if total_views > 0 else np.nan
        conversion = (units + SMOOTHING_VIEWS * shop_rate) / (views + SMOOTHING_VIEWS)
        cart_share = (carts + SMOOTHING_VIEWS * shop_cart) / (views + SMOOTHING_VIEWS)
    feats.append(np.where(seen, conversion, np.nan))
    feats.append(np.where(seen, cart_share, np.nan))
    return np.vstack(feats)
