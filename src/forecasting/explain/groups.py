"""Input groups: named interventions that put one group of a panel's inputs at its reference.

An explanation compares the forecast made on the actual inputs with forecasts made on a
*reference world*: a shop where every series sold, every day, what it sold on average over
its last :data:`REFERENCE_DAYS` known days; where prices stay at their recent median and
nothing is on promotion; where the calendar has no holidays or shopping events; and where
reviews and web behaviour (when the panel has them) stay flat at their recent average.
Each :class:`InputGroup` replaces one of these groups of inputs by its reference value;
the groups touch disjoint parts of the :class:`~forecasting.features.panel.Panel`, so any
set of them can be put at the reference at once, in any order.

The interventions apply to *every* series of the panel together: shop-wide features
(the pooled demand of all series of a shard) move with them, as they would in that world.

Plain date features (day of week, day of month, month, day of year, week of year, days to
Christmas) and static series columns (text embeddings, neighbours) are never changed: they
describe *when* and *what* is forecast, not the data that arrived, and their effect is
part of the ``model_baseline``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from forecasting.features.behaviour import BEHAVIOUR_ARRAYS
from forecasting.features.panel import Panel, calendar_features
from forecasting.features.text import REVIEW_COLUMNS

__all__ = [
    "EVENT_CALENDAR_COLUMNS",
    "GROUP_LABELS",
    "INPUT_GROUPS",
    "MAX_GROUPS",
    "MODEL",
    "MODEL_BASELINE",
    "REFERENCE",
    "REFERENCE_DAYS",
    "InputGroup",
    "Replacement",
    "applicable_groups",
    "reference_level",
    "reference_panel",
    "replacements",
]

log = logging.getLogger(__name__)

#: Days of known history whose mean demand is a series' reference level (and over which
#: the reference price is the median).
REFERENCE_DAYS = 28
#: The most groups an explanation takes (2 ** 5 = 32 scorings per explanation).
MAX_GROUPS = 5
#: Driver row of the reference forecast: the reference level x the days of a bucket.
REFERENCE = "reference"
#: Driver row of the model on the reference world, minus the reference forecast.
MODEL_BASELINE = "model_baseline"
#: Change row of a new model version (part ``new_model``).
MODEL = "model"
#: Calendar columns that describe events; the reference world has none. The others (day of
#: week, of month, of year, week, month, days to Christmas) stay as they are.
EVENT_CALENDAR_COLUMNS: tuple[str, ...] = (
    "is_holiday",
    "is_shopping_day",
    "days_to_event",
    "days_since_event",
)
_REVIEW_ARRAYS: tuple[str, ...] = tuple(c for c in REVIEW_COLUMNS if c not in ("sku", "ds"))
_BEHAVIOUR_ARRAYS: tuple[str, ...] = tuple(BEHAVIOUR_ARRAYS.values())


@dataclass(frozen=True)
class Replacement:
    """What a group's inputs become at the reference.

    Attributes:
        fields: Panel fields replaced whole (``y``, ``price``, ``promo``, ``calendar``).
        daily: Arrays of :attr:`Panel.daily` replaced, by name.
    """

    fields: Mapping[str, Any] = field(default_factory=dict)
    daily: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class InputGroup:
    """A named group of inputs and its reference.

    Attributes:
        name: The group's name (``input_group`` of the driver rows).
        label: What a planner reads (``"price and promotions"``).
        description: One sentence on the inputs and their reference.
        applies: Whether the group can move a forecast of this panel (a group whose
            inputs already equal their reference contributes exactly 0 and is left out,
            halving the scorings).
        reference: The group's inputs at their reference, computed from the actual panel.
        on_daily: The group's inputs are :attr:`Panel.daily` arrays (which the pyfunc
            input does not carry).
    """

    name: str
    label: str
    description: str
    applies: Callable[[Panel], bool]
    reference: Callable[[Panel], Replacement]
    on_daily: bool = False


def _recent_known_mean(
    values: np.ndarray, n_history: int, days: int = REFERENCE_DAYS
) -> np.ndarray:
    """Per row, the mean of the last ``days`` known (non-NaN) values of the history; 0 for a
    row with none."""
    hist = values[:, :n_history]
    known = ~np.isnan(hist)
    # Known cells counted from the last history day backwards: 1 is the latest known one.
    rank = np.cumsum(known[:, ::-1], axis=1)[:, ::-1]
    window = known & (rank <= days)
    count = window.sum(axis=1)
    total = np.where(window, hist, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def _flat_known(values: np.ndarray, n_history: int) -> np.ndarray:
    """History cells that are known set to the row's recent mean; unknown ones (and the
    future) as they were."""
    level = _recent_known_mean(values, n_history)
    out = np.array(values, dtype="float64", copy=True)
    hist = out[:, :n_history]
    out[:, :n_history] = np.where(np.isnan(hist), np.nan, level[:, None])
    return out


def reference_level(panel: Panel) -> np.ndarray:
    """Each series' reference level: mean demand over its last :data:`REFERENCE_DAYS` known
    history days (units per day, 0 for a series without known demand).

    Args:
        panel: The panel.

    Returns:
        Array of shape ``(n_series,)``.
    """
    return _recent_known_mean(panel.y, panel.n_history)


# ---------------------------------------------------------------------- the groups
def _sales_history(panel: Panel) -> Replacement:
    return Replacement(fields={"y": _flat_known(panel.y, panel.n_history)})


def _reference_price(panel: Panel) -> np.ndarray:
    start = max(0, panel.n_history - REFERENCE_DAYS)
    recent = panel.price[:, start : panel.n_history]
    with np.errstate(all="ignore"):
        median = np.nanmedian(recent, axis=1) if recent.size else np.full(panel.n_series, 1.0)
    return np.where(np.isnan(median), 1.0, median)


def _price_promotions(panel: Panel) -> Replacement:
    price = np.repeat(_reference_price(panel)[:, None], panel.price.shape[1], axis=1)
    return Replacement(
        fields={"price": price, "promo": np.zeros_like(panel.promo, dtype="float64")}
    )


def _price_promotions_apply(panel: Panel) -> bool:
    flat_price = np.allclose(panel.price, _reference_price(panel)[:, None], equal_nan=True)
    return bool(not flat_price or np.any(panel.promo != 0))


def _no_events(panel: Panel) -> Any:
    columns = [c for c in EVENT_CALENDAR_COLUMNS if c in panel.calendar.columns]
    quiet = calendar_features(panel.dates, None)
    calendar = panel.calendar.copy()
    for column in columns:
        calendar[column] = quiet[column].to_numpy().astype(calendar[column].dtype)
    return calendar


def _calendar_events(panel: Panel) -> Replacement:
    return Replacement(fields={"calendar": _no_events(panel)})


def _calendar_events_apply(panel: Panel) -> bool:
    columns = [c for c in EVENT_CALENDAR_COLUMNS if c in panel.calendar.columns]
    return bool(columns) and not panel.calendar[columns].equals(_no_events(panel)[columns])


def _daily_group(names: tuple[str, ...]) -> Callable[[Panel], Replacement]:
    def reference(panel: Panel) -> Replacement:
        return Replacement(
            daily={
                n: _flat_known(panel.daily[n].astype("float64"), panel.n_history)
                for n in names
                if n in panel.daily
            }
        )

    return reference


def _has_daily(names: tuple[str, ...]) -> Callable[[Panel], bool]:
    def applies(panel: Panel) -> bool:
        return any(n in panel.daily for n in names)

    return applies


def _always(panel: Panel) -> bool:
    return panel.n_series > 0


#: The input groups, in the order their rows are written.
INPUT_GROUPS: dict[str, InputGroup] = {
    g.name: g
    for g in (
        InputGroup(
            "sales_history",
            "sales history",
            "Demand of every known history day (the series' own and, through the shop-wide "
            "features, every other series'); reference: flat at each series' mean over its "
            f"last {REFERENCE_DAYS} known days (unknown days stay unknown).",
            _always,
            _sales_history,
        ),
        InputGroup(
            "price_promotions",
            "price and promotions",
            "Unit price and promotion discount, past and planned; reference: each series' "
            f"median price over the last {REFERENCE_DAYS} history days on every day, and no "
            "promotion.",
            _price_promotions_apply,
            _price_promotions,
        ),
        InputGroup(
            "calendar_events",
            "calendar events",
            "Holidays and shopping events (the flags and the days to and since the nearest "
            "one); reference: a calendar without events. Day of week and of year stay.",
            _calendar_events_apply,
            _calendar_events,
        ),
        InputGroup(
            "reviews",
            "reviews",
            "The product's daily reviews, ratings and sentiment; reference: flat at each "
            f"series' mean over its last {REFERENCE_DAYS} known days.",
            _has_daily(_REVIEW_ARRAYS),
            _daily_group(_REVIEW_ARRAYS),
            on_daily=True,
        ),
        InputGroup(
            "behaviour",
            "web behaviour",
            "Daily views, sessions, cart and wishlist adds and searches; reference: flat at "
            f"each series' mean over its last {REFERENCE_DAYS} known days.",
            _has_daily(_BEHAVIOUR_ARRAYS),
            _daily_group(_BEHAVIOUR_ARRAYS),
            on_daily=True,
        ),
    )
}

#: What a planner reads for every ``input_group`` (groups, ``reference``, ``model_baseline``
#: and the change's ``model``).
GROUP_LABELS: dict[str, str] = {
    REFERENCE: "recent average",
    **{name: g.label for name, g in INPUT_GROUPS.items()},
    MODEL_BASELINE: "model baseline",
    MODEL: "new model version",
}


def applicable_groups(panel: Panel, daily: bool = True) -> list[str]:
    """The groups that can move this panel's forecasts, in :data:`INPUT_GROUPS` order.

    Args:
        panel: The panel to explain.
        daily: Include the groups of :attr:`Panel.daily` arrays (reviews, behaviour) the
            panel has. Pass ``False`` when the model is scored through its pyfunc input
            (:func:`forecasting.registry.pyfunc.panel_to_model_input`), which does not
            carry them: they would contribute exactly 0 at twice the cost.

    Returns:
        Group names (at most :data:`MAX_GROUPS`).
    """
    known = {n for g in (_REVIEW_ARRAYS, _BEHAVIOUR_ARRAYS) for n in g}
    other = sorted(set(panel.daily) - known)
    if other and daily:
        log.warning("daily arrays %s belong to no input group: they stay as they are", other)
    names = [
        name for name, g in INPUT_GROUPS.items() if (daily or not g.on_daily) and g.applies(panel)
    ]
    return names[:MAX_GROUPS]


def replacements(panel: Panel, groups: Iterable[str]) -> dict[str, Replacement]:
    """Each group's reference inputs, computed once from the actual panel.

    Raises:
        ValueError: For an unknown group name.
    """
    out = {}
    for name in groups:
        if name not in INPUT_GROUPS:
            raise ValueError(f"unknown input group {name!r}; choose from {list(INPUT_GROUPS)}")
        out[name] = INPUT_GROUPS[name].reference(panel)
    return out


def reference_panel(
    panel: Panel,
    at_reference: Sequence[str] | frozenset[str] | set[str],
    computed: Mapping[str, Replacement] | None = None,
) -> Panel:
    """The panel with the named groups at their reference and every other input actual.

    Args:
        panel: The actual panel.
        at_reference: Names of the groups to put at their reference.
        computed: :func:`replacements` of (at least) these groups, to reuse across calls.

    Returns:
        A new panel (the actual one when ``at_reference`` is empty).
    """
    if not at_reference:
        return panel
    computed = computed if computed is not None else replacements(panel, at_reference)
    fields: dict[str, Any] = {}
    daily = dict(panel.daily)
    for name in at_reference:
        fields.update(computed[name].fields)
        daily.update(computed[name].daily)
    return replace(panel, **fields, daily=daily)
