"""Direct multi-horizon features: one row per (series, origin, horizon).

The same functions build training rows (many past origins) and scoring rows (the last
history day as origin), so training and serving cannot drift apart. Everything is index
arithmetic on the panel's dense arrays, using cumulative sums for window statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.errors import InsufficientHistoryError
from forecasting.features.behaviour import behaviour_features
from forecasting.features.panel import Panel
from forecasting.features.spec import FeatureSpec
from forecasting.features.text import neighbour_positions, review_arrays, text_vectors

__all__ = [
    "FeatureMatrix",
    "Rows",
    "build_features",
    "scoring_rows",
    "training_rows",
]

_SCALE_FALLBACKS = (91, 364)
#: Above this multiple of ``max_rows`` candidate rows, training rows are drawn before the
#: filters run, ``_PRESAMPLE_DRAW`` times ``max_rows`` of them (memory stays bounded).
_PRESAMPLE_ABOVE = 8
_PRESAMPLE_DRAW = 4


@dataclass(frozen=True)
class Rows:
    """Which (series, origin, horizon) triples to build; equal-length int arrays."""

    series: np.ndarray
    origin: np.ndarray
    horizon: np.ndarray

    def __len__(self) -> int:
        return len(self.series)

    @property
    def target(self) -> np.ndarray:
        """Day index of each row's target (``origin + horizon``)."""
        return self.origin + self.horizon

    def take(self, keep: np.ndarray) -> Rows:
        """Rows selected by a boolean mask or positions."""
        return Rows(self.series[keep], self.origin[keep], self.horizon[keep])


@dataclass(frozen=True)
class FeatureMatrix:
    """Features for a set of rows.

    Attributes:
        rows: The rows, in the order of ``X``.
        X: ``float32`` array, one column per :meth:`FeatureSpec.feature_names`.
        names: Column names of ``X``.
        scale: Each row's series scale (units per day); multiply normalised predictions by it.
        series_ids: Each row's ``unique_id`` (stable across panels, unlike row positions).
    """

    rows: Rows
    X: np.ndarray
    names: list[str]
    scale: np.ndarray
    series_ids: np.ndarray

    def take(self, keep: np.ndarray) -> FeatureMatrix:
        """Rows selected by a boolean mask or positions."""
        return FeatureMatrix(
            self.rows.take(keep), self.X[keep], self.names, self.scale[keep], self.series_ids[keep]
        )


class _Cumulative:
    """Cumulative sums along time for O(1) window statistics."""

    def __init__(self, y: np.ndarray) -> None:
        valid = ~np.isnan(y)
        yz = np.where(valid, y, 0.0)
        pad = np.zeros((y.shape[0], 1))
        self.sum = np.concatenate([pad, np.cumsum(yz, axis=1)], axis=1)
        self.sq = np.concatenate([pad, np.cumsum(yz * yz, axis=1)], axis=1)
        self.count = np.concatenate([pad, np.cumsum(valid, axis=1)], axis=1)
        self.zeros = np.concatenate([pad, np.cumsum(valid & (yz == 0), axis=1)], axis=1)
        first = np.where(valid.any(axis=1), valid.argmax(axis=1), y.shape[1])
        self.first_valid = first
        days = np.arange(y.shape[1], dtype=np.int32)
        # Index of the last day with a sale up to each day (-1: none yet).
        self.last_sale = np.maximum.accumulate(np.where(yz > 0, days, -1).astype(np.int32), axis=1)

    def window(
        self, series: np.ndarray, end: np.ndarray, length: int | np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """Sum, sum of squares, count and zero count over ``[end - length + 1, end]``."""
        stop = np.clip(end + 1, 0, self.sum.shape[1] - 1)
        start = np.clip(end - length + 1, 0, self.sum.shape[1] - 1)
        start = np.minimum(start, stop)
        return (
            self.sum[series, stop] - self.sum[series, start],
            self.sq[series, stop] - self.sq[series, start],
            self.count[series, stop] - self.count[series, start],
            self.zeros[series, stop] - self.zeros[series, start],
        )

    def mean(self, series: np.ndarray, end: np.ndarray, length: int | np.ndarray) -> np.ndarray:
        total, _, count, _ = self.window(series, end, length)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _series_scale(
    cum: _Cumulative, series: np.ndarray, origin: np.ndarray, spec: FeatureSpec
) -> np.ndarray:
    """Mean demand over ``scale_window`` days, falling back to 91 then 364 days; NaN if none."""
    scale = cum.mean(series, origin, spec.scale_window)
    for length in _SCALE_FALLBACKS:
        bad = ~(scale > 0)
        if not bad.any():
            break
        scale[bad] = cum.mean(series[bad], origin[bad], length)
    scale[~(scale > 0)] = np.nan
    return scale


def _gather(values: np.ndarray, series: np.ndarray, day: np.ndarray) -> np.ndarray:
    """``values[series, day]`` with NaN where ``day`` is outside the grid."""
    inside = (day >= 0) & (day < values.shape[1])
    out = np.full(len(series), np.nan)
    out[inside] = values[series[inside], day[inside]]
    return out


def _pooled_features(panel: Panel, o: np.ndarray, t: np.ndarray) -> list[np.ndarray]:
    """Shop-wide demand ratios at each row's origin (see :class:`FeatureSpec`)."""
    total = np.nansum(panel.y, axis=0, keepdims=True)  # NaN days (the future) sum to 0
    total[:, panel.n_history :] = np.nan
    cum = _Cumulative(total)
    zero = np.zeros(len(o), dtype=int)
    base = cum.mean(zero, o, 28)
    ly_target = cum.mean(zero, t - 364 + 3, 7)
    ly_origin = cum.mean(zero, o - 364, 28)
    with np.errstate(invalid="ignore", divide="ignore"):
        return [
            cum.mean(zero, o, 7) / base,
            cum.mean(zero, o, 91) / base,
            np.where(ly_origin > 0, ly_target / ly_origin, np.nan),
        ]


def build_features(
    panel: Panel, rows: Rows, spec: FeatureSpec, cum: _Cumulative | None = None
) -> FeatureMatrix:
    """Compute the features of ``rows`` from ``panel`` as declared by ``spec``.

    Only demand up to each row's origin is used; covariates and calendar are read at the
    target day (they are known in advance).

    Args:
        panel: The panel.
        rows: Rows to build (origins must be history days).
        spec: Feature declaration.
        cum: Precomputed cumulative sums of ``panel.y`` (an optimisation for callers that
            build several matrices from one panel).

    Returns:
        The feature matrix; rows whose series has no positive demand in the last 364 days
        get a NaN scale (callers drop them or forecast zero).
    """
    cum = cum or _Cumulative(panel.y)
    s, o, h = rows.series, rows.origin, rows.horizon
    t = o + h
    scale = _series_scale(cum, s, o, spec)
    inv = 1.0 / scale
    cols: list[np.ndarray] = [
        h.astype(float),
        np.log1p(scale),
        np.minimum(o - cum.first_valid[s], 730).astype(float),
    ]
    cols += [_gather(panel.y, s, o - k) * inv for k in spec.lags]
    cols += [cum.mean(s, o, w) * inv for w in spec.windows]
    cols += _dispersion_features(cum, rows, spec.dispersion_windows, inv)
    if spec.same_weekday_weeks:
        cols += _same_weekday_features(panel, rows, spec.same_weekday_weeks, inv)
    if spec.yearly:
        cols += _yearly_features(panel, cum, rows, inv)
    if spec.calendar:
        cal = panel.calendar.loc[:, list(spec.calendar)].to_numpy(dtype=float)
        cols += list(cal[t].T)
    if spec.exogenous:
        cols += _exogenous_features(panel, rows)
    if spec.intermittency:
        cols += _intermittency_features(panel, cum, rows, inv)
    if spec.pooled:
        cols += _pooled_features(panel, o, t)
    if spec.text:
        cols += list(text_vectors(panel, spec.text_dimensions)[s].T)
    if spec.text_neighbours:
        cols += _neighbour_features(panel, cum, rows, spec)
    if spec.reviews:
        cols += _review_features(panel, rows)
    if spec.behaviour:
        cols += behaviour_features(panel, s, o, scale)
    X = np.column_stack(cols).astype("float32")
    X[~np.isfinite(X)] = np.nan
    return FeatureMatrix(rows, X, spec.feature_names(), scale, panel.ids["unique_id"].to_numpy()[s])


def _dispersion_features(
    cum: _Cumulative, rows: Rows, windows: tuple[int, ...], inv: np.ndarray
) -> list[np.ndarray]:
    """Standard deviation over scale and share of zero days over each window up to origin."""
    cols: list[np.ndarray] = []
    for w in windows:
        total, sq, count, zeros = cum.window(rows.series, rows.origin, w)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
            var = np.maximum(sq / count - mean * mean, 0.0)
            cols += [np.sqrt(var) * inv, zeros / count]
    return cols


def _same_weekday_features(
    panel: Panel, rows: Rows, weeks: tuple[int, ...], inv: np.ndarray
) -> list[np.ndarray]:
    """Mean of the last ``n`` values on the target's weekday up to origin, over scale."""
    s, h, t = rows.series, rows.horizon, rows.target
    first_week = -(-h // 7)  # ceil(h / 7): the most recent same weekday at or before o
    total = np.zeros(len(s))
    count = np.zeros(len(s))
    cols: list[np.ndarray] = []
    done = 0
    for n in weeks:  # ascending: sums grow incrementally
        for j in range(done, n):
            v = _gather(panel.y, s, t - 7 * (first_week + j))
            ok = ~np.isnan(v)
            total += np.where(ok, v, 0.0)
            count += ok
        done = n
        with np.errstate(invalid="ignore", divide="ignore"):
            cols.append(np.where(count > 0, total / np.maximum(count, 1), np.nan) * inv)
    return cols


def _yearly_features(
    panel: Panel, cum: _Cumulative, rows: Rows, inv: np.ndarray
) -> list[np.ndarray]:
    """Last year's demand on and around the target, and last year's change since origin."""
    s, o, t = rows.series, rows.origin, rows.target
    ly_target = cum.mean(s, t - 364 + 3, 7)
    ly_origin = cum.mean(s, o - 364, 28)
    with np.errstate(invalid="ignore", divide="ignore"):
        change = np.where(ly_origin > 0, ly_target / ly_origin, np.nan)
    return [_gather(panel.y, s, t - 364) * inv, ly_target * inv, change]


def _exogenous_features(panel: Panel, rows: Rows) -> list[np.ndarray]:
    """Target price over the recent average price; promotion at target and at origin."""
    s, o, t = rows.series, rows.origin, rows.target
    recent_price = np.nanmean(
        np.stack([_gather(panel.price, s, o - k) for k in range(0, 28, 3)]), axis=0
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        relative_price = panel.price[s, t] / recent_price
    return [relative_price, panel.promo[s, t], panel.promo[s, o]]


def _intermittency_features(
    panel: Panel, cum: _Cumulative, rows: Rows, inv: np.ndarray
) -> list[np.ndarray]:
    """Days since the last sale, mean size of a sale over scale, days per sale (91 days)."""
    s, o = rows.series, rows.origin
    last_sale = cum.last_sale[s, np.clip(o, 0, panel.y.shape[1] - 1)]
    since = np.where(last_sale < 0, 364, np.minimum(o - last_sale, 364))
    total, _, count, zeros = cum.window(s, o, 91)
    sales = count - zeros
    with np.errstate(invalid="ignore", divide="ignore"):
        return [
            since.astype(float),
            np.where(sales > 0, total / sales, np.nan) * inv,
            count / sales,
        ]


def _neighbour_features(
    panel: Panel, cum: _Cumulative, rows: Rows, spec: FeatureSpec
) -> list[np.ndarray]:
    """What the series' ``k`` nearest text neighbours sold up to the origin.

    Per row: the neighbours' mean demand over the last 7 and over the last 28 days, each
    over the neighbour's own scale (are similar products picking up?), averaged over the
    neighbours that have a scale at the origin; and the log of their mean scale over the
    series' own. Computed once per (series, origin): horizons share them.
    """
    days = panel.y.shape[1]
    key = rows.series.astype(np.int64) * days + rows.origin
    unique, inverse = np.unique(key, return_inverse=True)
    us, uo = unique // days, unique % days
    neighbours = neighbour_positions(panel, spec.text_neighbours)[us]
    sums = np.zeros((3, len(unique)))
    counts = np.zeros((3, len(unique)))
    for j in range(neighbours.shape[1]):
        nb = neighbours[:, j]
        ok = nb >= 0
        if not ok.any():
            continue
        values = np.full((3, len(unique)), np.nan)
        nb_scale = _series_scale(cum, nb[ok], uo[ok], spec)
        values[0, ok] = cum.mean(nb[ok], uo[ok], 7) / nb_scale
        values[1, ok] = cum.mean(nb[ok], uo[ok], 28) / nb_scale
        values[2, ok] = nb_scale
        good = np.isfinite(values)
        sums += np.where(good, values, 0.0)
        counts += good
    own = _series_scale(cum, us, uo, spec)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        ratio = np.log(means[2] / own)
    return [means[0][inverse], means[1][inverse], ratio[inverse]]


def _review_features(panel: Panel, rows: Rows) -> list[np.ndarray]:
    """Review count over 28/91 days, mean rating (91) and its trend, mean sentiment (91)."""
    arrays = review_arrays(panel)
    if arrays is None:
        return [np.full(len(rows), np.nan) for _ in range(5)]
    s, o = rows.series, rows.origin
    pad = np.zeros((panel.n_series, 1))

    def window(values: np.ndarray, length: int) -> np.ndarray:
        # Unknown days (after a truncation) count as 0: nothing after the origin is read.
        total = np.concatenate([pad, np.cumsum(np.nan_to_num(values), axis=1)], axis=1)
        stop = np.clip(o + 1, 0, total.shape[1] - 1)
        start = np.minimum(np.clip(o - length + 1, 0, total.shape[1] - 1), stop)
        return total[s, stop] - total[s, start]

    reviews, rating, sentiment = arrays
    n28, n91 = window(reviews, 28), window(reviews, 91)
    r28, r91 = window(rating, 28), window(rating, 91)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean91 = np.where(n91 > 0, r91 / n91, np.nan)
        recent = np.where(n28 > 0, r28 / n28, np.nan)
        before = np.where(n91 > n28, (r91 - r28) / (n91 - n28), np.nan)
        return [
            n28,
            n91,
            mean91,
            recent - before,
            np.full(len(rows), np.nan)
            if sentiment is None
            else np.where(n91 > 0, window(sentiment, 91) / n91, np.nan),
        ]


def training_rows(
    panel: Panel,
    horizon: int,
    spec: FeatureSpec,
    *,
    origin_stride: int = 3,
    max_origins: int = 120,
    max_rows: int | None = 1_000_000,
    active_days: int | None = None,
    seed: int = 0,
) -> tuple[FeatureMatrix, np.ndarray]:
    """Training rows from past origins, with their normalised targets.

    Origins step back from the last history day by ``origin_stride`` days (a stride that
    is not a multiple of 7 covers every weekday); only targets inside the history are
    kept. Rows without a scale or a known target are dropped; if more than ``max_rows``
    remain, a seeded random subset is kept. For large catalogues, candidates are drawn
    before filtering so memory does not grow with series x origins x horizons.

    Returns:
        The feature matrix and the target ``y / scale`` of each row.
    """
    last = panel.last_history_index
    origins = last - 1 - origin_stride * np.arange(max_origins)
    origins = origins[origins >= spec.scale_window]
    if len(origins) == 0:
        raise InsufficientHistoryError(
            f"history of {panel.n_history} days is too short to train on: a training origin "
            f"needs {spec.scale_window} days before it and a day after it"
        )
    n = panel.n_series
    shape = (n, len(origins), horizon)
    total = n * len(origins) * horizon
    rng = np.random.default_rng(seed)
    if max_rows is not None and total > _PRESAMPLE_ABOVE * max_rows:
        # A large catalogue: draw candidates first instead of materialising every
        # (series, origin, horizon) triple (tens of millions at 30,000 series).
        flat = rng.choice(total, size=_PRESAMPLE_DRAW * max_rows, replace=False)
        s, o_pos, h0 = np.unravel_index(np.sort(flat), shape)
        rows = Rows(s, origins[o_pos], h0 + 1)
    else:
        s, o, h = np.meshgrid(np.arange(n), origins, np.arange(1, horizon + 1), indexing="ij")
        rows = Rows(s.ravel(), o.ravel(), h.ravel())
    rows = rows.take(rows.target <= last)
    y_target = panel.y[rows.series, rows.target]
    keep = ~np.isnan(y_target)
    cum = _Cumulative(panel.y)
    keep &= rows.origin >= cum.first_valid[rows.series] + 6  # at least a week of history
    if active_days:
        active = cum.window(rows.series, rows.origin, active_days)[0] > 0
        keep &= active
    rows = rows.take(keep)
    if max_rows is not None and len(rows) > max_rows:
        pick = np.sort(rng.choice(len(rows), size=max_rows, replace=False))
        rows = rows.take(pick)
    fm = build_features(panel, rows, spec, cum)
    ok = ~np.isnan(fm.scale)
    if not ok.all():
        fm = fm.take(ok)
    target = panel.y[fm.rows.series, fm.rows.target] / fm.scale
    return fm, target


def scoring_rows(
    panel: Panel, horizon: int, origin: int | None = None, series: np.ndarray | None = None
) -> Rows:
    """Rows for forecasting ``horizon`` days after ``origin`` (default: last history day)."""
    origin = panel.last_history_index if origin is None else origin
    if origin + horizon >= len(panel.dates):
        raise ValueError(
            f"panel has {len(panel.dates) - origin - 1} days of covariates after the origin; "
            f"{horizon} needed"
        )
    chosen = np.arange(panel.n_series) if series is None else np.asarray(series)
    s, h = np.meshgrid(chosen, np.arange(1, horizon + 1), indexing="ij")
    return Rows(s.ravel(), np.full(s.size, origin), h.ravel())
