"""Feature specification: features declared as data, names generated from it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from forecasting.features.behaviour import BEHAVIOUR_FEATURES
from forecasting.features.panel import CALENDAR_COLUMNS

__all__ = ["FeatureSpec"]

# What features.text attaches to a panel (kept here: text imports spec, not the reverse).
_MAX_TEXT_DIMENSIONS = 16
_MAX_TEXT_NEIGHBOURS = 20


@dataclass(frozen=True)
class FeatureSpec:
    """Which features a direct multi-horizon model sees, for a forecast made at an
    origin day ``o`` for a target day ``t = o + h``.

    Demand features are divided by the series' scale (its mean demand over the
    ``scale_window`` days up to ``o``), so one global model serves fast and slow movers. A
    quarter (91 days) is long enough to be stable for intermittent series and short
    enough to follow trends; it beat 28 and 182 days on both benchmark datasets.

    Attributes:
        lags: ``y[o - k] / scale`` for each ``k`` (``0`` is the origin day itself).
        windows: Mean demand over the last ``w`` days up to ``o``, over scale.
        dispersion_windows: Standard deviation and share of zero days over ``w`` days.
        same_weekday_weeks: Mean of the last ``n`` values on the target's weekday, up to ``o``.
        yearly: Last year's demand around the target (``t - 364``) and last year's change
            from the origin period to the target period.
        calendar: Calendar and event features of the target day.
        exogenous: Price relative to the recent average price, and promotion discount, at
            the target day.
        intermittency: Croston-style signals for slow movers: days since the last sale,
            and the mean size of a sale and the mean gap between sales over the last 91 days.
        pooled: Shop-wide signals: total demand of all series over the last 7 and 91 days
            relative to its last 28 days (is the whole shop ramping up?), and last year's
            shop-wide change from the origin period to the target day (a low-noise estimate
            of the seasonal swing ahead).
        scale_window: Days whose mean demand is the scale.
        text: The first ``text_dimensions`` components of the product's text embedding
            (static per series; :func:`forecasting.features.text.attach_text`), NaN on a
            panel without them.
        text_dimensions: How many components ``text`` uses (at most
            :data:`forecasting.features.text.ATTACHED_DIMENSIONS`).
        text_neighbours: ``k``: pooled demand of the series' ``k`` nearest text neighbours
            at its location, up to the origin (0 = off): their mean demand over the last 7
            and 28 days, each over its own scale, and the log of their mean scale over the
            series' own (what similar products sell; telling for young series).
        reviews: The SKU's reviews up to the origin (:func:`forecasting.features.text.
            attach_reviews`): review count over 28 and 91 days, mean rating over 91 days and
            its trend (last 28 days minus the 63 before), mean sentiment over 91 days; NaN
            where there are none, all NaN on a panel without reviews.
        behaviour: Web behaviour up to the origin
            (:func:`forecasting.features.behaviour.behaviour_features`: views, sessions,
            cart adds and removes, wishlist adds and matched searches over recent windows,
            the view trend, view-to-order conversion and cart adds' share of views); NaN
            before the event log starts, all NaN on a panel without behaviour. Off by
            default: on the generated shop's tuning windows
            (``bench/forecasting_bench/behaviour_ablation.py``) it helped ``hgb`` by a
            fraction of a percent of RMSSE and did not help ``linear``; a run turns it on
            per model (``model_params: {hgb: {features: {behaviour: true}}}``).
    """

    lags: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 13, 14, 20, 21, 27)
    windows: tuple[int, ...] = (7, 14, 28, 56, 91, 182, 364)
    dispersion_windows: tuple[int, ...] = (28, 91)
    same_weekday_weeks: tuple[int, ...] = (1, 2, 4, 8, 13)
    yearly: bool = True
    calendar: tuple[str, ...] = CALENDAR_COLUMNS
    exogenous: bool = True
    intermittency: bool = True
    pooled: bool = True
    scale_window: int = 91
    text: bool = False
    text_dimensions: int = 8
    text_neighbours: int = 0
    reviews: bool = False
    behaviour: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.calendar) - set(CALENDAR_COLUMNS)
        if unknown:
            raise ValueError(f"unknown calendar features {sorted(unknown)}")
        if any(k < 0 for k in self.lags) or any(w < 1 for w in (*self.windows, self.scale_window)):
            raise ValueError("lags must be >= 0 and windows >= 1")
        if list(self.same_weekday_weeks) != sorted(set(self.same_weekday_weeks)):
            raise ValueError("same_weekday_weeks must be strictly increasing")
        if not 1 <= self.text_dimensions <= _MAX_TEXT_DIMENSIONS:
            raise ValueError(f"text_dimensions must be in [1, {_MAX_TEXT_DIMENSIONS}]")
        if not 0 <= self.text_neighbours <= _MAX_TEXT_NEIGHBOURS:
            raise ValueError(f"text_neighbours must be in [0, {_MAX_TEXT_NEIGHBOURS}]")

    @property
    def max_lookback(self) -> int:
        """Days of history the features reach back from the origin."""
        reach = [*self.lags, *self.windows, *self.dispersion_windows, self.scale_window]
        reach += [7 * n for n in self.same_weekday_weeks]
        if self.yearly:
            reach.append(364 + self.scale_window)
        if self.reviews:
            reach.append(91)
        if self.behaviour:
            reach.append(28)
        return max(reach)

    def feature_names(self) -> list[str]:
        """Feature column names, in the order models receive them."""
        names = ["horizon", "log_scale", "series_age"]
        names += [f"lag_{k}" for k in self.lags]
        names += [f"mean_{w}" for w in self.windows]
        for w in self.dispersion_windows:
            names += [f"std_{w}", f"zero_share_{w}"]
        names += [f"same_weekday_mean_{n}w" for n in self.same_weekday_weeks]
        if self.yearly:
            names += ["last_year_target", "last_year_target_week", "last_year_change"]
        names += [f"cal_{c}" for c in self.calendar]
        if self.exogenous:
            names += ["price_ratio", "promo_discount", "promo_discount_origin"]
        if self.intermittency:
            names += ["days_since_sale", "sale_size_91", "sale_gap_91"]
        if self.pooled:
            names += ["pool_mean_7", "pool_mean_91", "pool_last_year_change"]
        if self.text:
            names += [f"text_{j}" for j in range(self.text_dimensions)]
        if self.text_neighbours:
            names += ["text_nb_mean_7", "text_nb_mean_28", "text_nb_log_scale_ratio"]
        if self.reviews:
            names += [
                "review_count_28",
                "review_count_91",
                "review_rating_91",
                "review_rating_trend",
                "review_sentiment_91",
            ]
        if self.behaviour:
            names += list(BEHAVIOUR_FEATURES)
        return names

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for MLflow params and artifacts)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        """Inverse of :meth:`to_dict`; a spec saved before a field existed gets its default."""
        kwargs: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        return cls(**kwargs)
