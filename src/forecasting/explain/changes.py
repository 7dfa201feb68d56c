"""Why a series' forecast total changed since the previous run: new data or a new model.

Three sets of driver rows (:func:`~forecasting.explain.drivers.explain_forecasts`) split
the change of a series' total over the horizon, ``total(today) - total(previous)``:

* ``previous``: the previous run's published drivers (its model version on its inputs);
* ``old_model_today``: the previous run's version on today's panel;
* ``new_model_today``: today's version on today's panel (today's published drivers).

The ``new_data`` part of a group is ``old_model_today(group) - previous(group)`` summed
over the buckets: the same model, what the inputs that arrived since did. The
``reference`` row counts towards ``sales_history`` (the recent average moved because new
sales arrived); ``model_baseline`` is its own group (the model's view of the fixed
inputs moved: the calendar days of the horizon shifted by a day). The ``new_model`` part
is ``total(new_model_today) - total(old_model_today)``, one row with the input group
``model``: the same inputs, what the new version did. The rows of a series add up exactly
to the change of its total.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting.explain.groups import INPUT_GROUPS, MODEL, MODEL_BASELINE, REFERENCE
from forecasting.schema import SEPARATOR

__all__ = ["CHANGE_COLUMNS", "NEW_DATA", "NEW_MODEL", "explain_change"]

log = logging.getLogger(__name__)

#: Columns of the change rows.
CHANGE_COLUMNS = ("unique_id", "part", "input_group", "contribution")
#: Part of the change due to the inputs that arrived since the previous run.
NEW_DATA = "new_data"
#: Part of the change due to a new model version.
NEW_MODEL = "new_model"
#: The change group of a driver row's group.
_CHANGE_GROUP = {REFERENCE: "sales_history"}
#: The order new-data rows are written in.
_ORDER = [*INPUT_GROUPS, MODEL_BASELINE]


def _keyed(drivers: pd.DataFrame, name: str) -> pd.DataFrame:
    """``unique_id, input_group, contribution`` of driver rows (``unique_id`` made from
    ``sku`` and ``location_id`` for warehouse rows without it)."""
    frame = drivers
    if "unique_id" not in frame.columns:
        if not {"sku", "location_id"} <= set(frame.columns):
            raise ValueError(f"{name} needs unique_id or sku and location_id")
        frame = frame.assign(
            unique_id=frame["sku"].astype(str) + SEPARATOR + frame["location_id"].astype(str)
        )
    missing = {"input_group", "contribution"} - set(frame.columns)
    if missing:
        raise ValueError(f"{name} lacks columns {sorted(missing)}")
    return frame.loc[:, ["unique_id", "input_group", "contribution"]]


def _per_group(drivers: pd.DataFrame) -> pd.DataFrame:
    """Contribution per series and change group, summed over buckets (series x group)."""
    group = drivers["input_group"].map(lambda g: _CHANGE_GROUP.get(g, g))
    return (
        drivers.assign(input_group=group)
        .groupby(["unique_id", "input_group"])["contribution"]
        .sum()
        .unstack(fill_value=0.0)
    )


def explain_change(
    previous_drivers: pd.DataFrame,
    old_model_today: pd.DataFrame,
    new_model_today: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Split each series' change of forecast total into new data (per input group) and a
    new model.

    Only series explained in both runs get rows: a series new today has no previous total
    to change from (its drivers explain it), a series gone today has no forecast. A group
    present one day only counts as 0 on the other (e.g. reviews that started to arrive).

    Args:
        previous_drivers: The previous run's driver rows (``unique_id`` or ``sku`` and
            ``location_id``, ``input_group``, ``contribution``; the horizon bucket is
            summed over).
        old_model_today: Drivers of the previous run's model version on today's panel.
        new_model_today: Drivers of today's version on today's panel; ``None`` (or the
            same frame) when the version did not change: ``new_model`` is then 0 and
            nothing is re-scored.

    Returns:
        :data:`CHANGE_COLUMNS`: per series, one ``new_data`` row per input group of either
        run (:data:`~forecasting.explain.groups.INPUT_GROUPS` order, then
        ``model_baseline``) and one ``new_model`` row (input group ``model``); they add up
        to ``total(today) - total(previous)`` in units over the horizon.

    Raises:
        ValueError: For frames that lack columns, or series explained by today's version
            but missing from ``old_model_today``.
    """
    previous = _per_group(_keyed(previous_drivers, "previous_drivers"))
    old = _per_group(_keyed(old_model_today, "old_model_today"))
    same = new_model_today is None or new_model_today is old_model_today
    new = old if same else _per_group(_keyed(new_model_today, "new_model_today"))
    lacking = new.index.difference(old.index)
    if len(lacking):
        raise ValueError(
            f"old_model_today lacks {len(lacking)} series explained today, e.g. "
            f"{list(lacking[:3])}: explain the same series with both versions"
        )
    series = new.index.intersection(previous.index)
    dropped_new, dropped_gone = len(new.index) - len(series), len(previous.index) - len(series)
    if dropped_new or dropped_gone:
        log.info(
            "changes: %d series new today and %d gone today have no change rows",
            dropped_new,
            dropped_gone,
        )
    columns = sorted(set(previous.columns) | set(old.columns), key=_order)
    prev = previous.reindex(index=series, columns=columns, fill_value=0.0)
    now = old.reindex(index=series, columns=columns, fill_value=0.0)
    new_data = (now - prev).to_numpy(dtype="float64")
    if same:
        new_model = np.zeros(len(series))
    else:
        new_model = new.loc[series].sum(axis=1).to_numpy() - old.loc[series].sum(axis=1).to_numpy()
    g = len(columns)
    values = np.column_stack([new_data, new_model]) if len(series) else np.zeros((0, g + 1))
    return pd.DataFrame(
        {
            "unique_id": np.repeat(series.to_numpy(dtype=object), g + 1),
            "part": np.tile(np.array([NEW_DATA] * g + [NEW_MODEL], dtype=object), len(series)),
            "input_group": np.tile(np.array([*columns, MODEL], dtype=object), len(series)),
            "contribution": values.reshape(-1),
        }
    )


def _order(group: str) -> tuple[int, str]:
    return (_ORDER.index(group) if group in _ORDER else len(_ORDER), group)
