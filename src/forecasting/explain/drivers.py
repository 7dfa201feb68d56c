"""Why each forecast says what it says: driver rows per series and horizon bucket.

For each explained series and horizon bucket the rows are

* ``reference``: the series' recent average (:func:`~forecasting.explain.groups.
  reference_level`) times the bucket's days -- what a planner would guess unaided;
* ``model_baseline``: the model's forecast in the reference world (every input group at
  its reference) minus the reference -- what the model adds from what stays fixed
  (day of week, season, the product itself);
* one row per input group (:func:`~forecasting.explain.groups.applicable_groups`): its
  exact Shapley value (:mod:`forecasting.explain.shapley`) in the game whose value of a
  coalition is the bucket's forecast total with the coalition's groups at their actual
  values and the others at their reference.

They add up, by construction, to the bucket's total of ``predict(panel)``: the forecast
that is published. Every scoring re-scores the whole panel (shop-wide features are
computed over every series of a shard, so scoring a subset would change the forecasts);
``series`` only chooses which rows are kept. A ``predict`` built with
:func:`forecaster_predictor` and the same ``series`` scores just those series' rows, with
the shop-wide features still computed over the whole panel, for the same numbers at a
fraction of the cost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecasting.explain.groups import (
    INPUT_GROUPS,
    MAX_GROUPS,
    MODEL_BASELINE,
    REFERENCE,
    applicable_groups,
    reference_level,
    reference_panel,
    replacements,
)
from forecasting.explain.shapley import shapley_values
from forecasting.features.panel import Panel

if TYPE_CHECKING:
    from forecasting.models.base import Forecaster

__all__ = [
    "DRIVER_COLUMNS",
    "HORIZON_BUCKETS",
    "Predict",
    "bucket_of",
    "bucket_totals",
    "explain_forecasts",
    "forecaster_predictor",
    "horizon_buckets",
    "pyfunc_predictor",
]

log = logging.getLogger(__name__)

#: A forecast function: a panel in, long rows ``unique_id, horizon, forecast`` out (one per
#: series and day 1..h after the panel's history; more columns are ignored).
Predict = Callable[[Panel], pd.DataFrame]
#: Columns of the driver rows.
DRIVER_COLUMNS = ("unique_id", "horizon_bucket", "input_group", "contribution")
#: The horizon buckets: (label, first day, last day). Days after the last one form a bucket
#: ``"29-<h>"`` (a horizon beyond 28 days).
HORIZON_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("1-7", 1, 7),
    ("8-14", 8, 14),
    ("15-28", 15, 28),
)


def horizon_buckets(horizon: int) -> list[tuple[str, int, int]]:
    """The buckets of a horizon, clipped to it: (label, first day, last day).

    The labels stay those of :data:`HORIZON_BUCKETS` (a 10-day horizon has ``1-7`` and
    ``8-14``, the latter holding days 8-10); days after 28 form ``"29-<horizon>"``.

    Raises:
        ValueError: For a horizon under 1.
    """
    if horizon < 1:
        raise ValueError("horizon must be >= 1")
    out = [
        (label, first, min(last, horizon))
        for label, first, last in HORIZON_BUCKETS
        if first <= horizon
    ]
    end = HORIZON_BUCKETS[-1][2]
    if horizon > end:
        out.append((f"{end + 1}-{horizon}", end + 1, horizon))
    return out


def bucket_of(horizons: np.ndarray | pd.Series, horizon: int) -> np.ndarray:
    """The bucket label of each horizon day (1..``horizon``).

    Raises:
        ValueError: For a day outside 1..``horizon``.
    """
    days = np.asarray(horizons, dtype=int)
    if len(days) and (days.min() < 1 or days.max() > horizon):
        raise ValueError(f"horizon days must lie in 1..{horizon}")
    buckets = horizon_buckets(horizon)
    labels = np.array([b[0] for b in buckets], dtype=object)
    lasts = np.array([b[2] for b in buckets])
    return labels[np.searchsorted(lasts, days, side="left")]


def bucket_totals(forecasts: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Forecast totals per series and horizon bucket.

    Args:
        forecasts: Rows ``unique_id, horizon, forecast`` (e.g. a scored shard).
        horizon: The run's horizon.

    Returns:
        ``unique_id, horizon_bucket, forecast`` (units over the bucket's days).
    """
    frame = pd.DataFrame(
        {
            "unique_id": forecasts["unique_id"].to_numpy(),
            "horizon_bucket": bucket_of(forecasts["horizon"], horizon),
            "forecast": forecasts["forecast"].to_numpy(dtype="float64"),
        }
    )
    return frame.groupby(["unique_id", "horizon_bucket"], sort=False, as_index=False)[
        "forecast"
    ].sum()


def forecaster_predictor(
    model: Forecaster, horizon: int, series: np.ndarray | None = None
) -> Predict:
    """``predict`` for a fitted forecaster (:meth:`Forecaster.predict`), optionally scoring
    only some series while the features still see the whole panel.

    Args:
        model: Fitted forecaster.
        horizon: Days to forecast.
        series: ``unique_id`` of the series to score (default: all).
    """

    def predict(panel: Panel) -> pd.DataFrame:
        positions = None
        if series is not None:
            positions = np.flatnonzero(panel.ids["unique_id"].isin(list(series)).to_numpy())
        return model.predict(panel, horizon, series=positions)

    return predict


def pyfunc_predictor(model: Any, horizon: int) -> Predict:
    """``predict`` for an MLflow pyfunc forecaster, as scoring calls it
    (``model.predict(panel_to_model_input(panel), params={"horizon": horizon})``).

    The pyfunc input carries demand, price, promotion and the event flags, not
    :attr:`Panel.daily`: explain with ``groups=applicable_groups(panel, daily=False)``.
    """
    from forecasting.registry.pyfunc import panel_to_model_input

    def predict(panel: Panel) -> pd.DataFrame:
        out = model.predict(panel_to_model_input(panel), params={"horizon": horizon})
        return pd.DataFrame(out).reset_index(drop=True)

    return predict


def _totals_matrix(
    frame: pd.DataFrame, keep: pd.Index, horizon: int, buckets: list[str]
) -> np.ndarray:
    """Forecast totals of ``keep`` x ``buckets`` from ``predict``'s rows; every series and
    day must be there, once."""
    rows = frame.loc[frame["unique_id"].isin(keep), ["unique_id", "horizon", "forecast"]]
    expected = len(keep) * horizon
    if len(rows) != expected or rows.duplicated(["unique_id", "horizon"]).any():
        raise ValueError(
            f"predict returned {len(rows)} rows for the {len(keep)} explained series, "
            f"expected one per series and day 1..{horizon} ({expected})"
        )
    values = rows["forecast"].to_numpy(dtype="float64")
    if not np.isfinite(values).all():
        raise ValueError("predict returned NaN or infinite forecasts: nothing to explain")
    out = np.zeros((len(keep), len(buckets)))
    np.add.at(
        out,
        (
            keep.get_indexer(rows["unique_id"]),
            pd.Index(buckets).get_indexer(bucket_of(rows["horizon"], horizon)),
        ),
        values,
    )
    return out


def explain_forecasts(
    predict: Predict,
    panel: Panel,
    horizon: int,
    series: np.ndarray | Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Driver rows of the forecasts ``predict(panel)``, adding up to them exactly.

    Scores the panel ``2 ** K`` times (``K`` groups, at most 5: 32 scorings), each time
    with some groups at their reference (:func:`~forecasting.explain.groups.
    reference_panel`, applied to every series of the panel).

    Args:
        predict: The forecast function (:func:`pyfunc_predictor`, :func:`forecaster_predictor`
            or any ``Panel -> unique_id, horizon, forecast`` rows); it must be deterministic:
            the rows add up to what it returns on the actual panel.
        panel: The panel as scored (history and the horizon's covariates).
        horizon: Days forecast.
        series: ``unique_id`` of the series to explain (default: every series of the panel).
            They must be series of the panel; the forecasts stay those of the whole panel.
        groups: Input groups to explain (default: :func:`~forecasting.explain.groups.
            applicable_groups`); groups left out keep their actual inputs in every scoring,
            so their effect lands in ``model_baseline``.

    Returns:
        :data:`DRIVER_COLUMNS`, per series and bucket (:func:`horizon_buckets`) the rows
        ``reference``, each group, ``model_baseline`` in that order; ``contribution`` in
        units over the bucket. Per (series, bucket) they sum to the bucket's forecast total.

    Raises:
        ValueError: For unknown series or groups, more than 5 groups, or a ``predict``
            whose output lacks rows or holds NaN.
    """
    started = time.perf_counter()
    ids = pd.Index(panel.ids["unique_id"])
    if series is None:
        keep = ids
    else:
        keep = pd.Index(pd.unique(np.asarray(series, dtype=object)))
        unknown = keep.difference(ids)
        if len(unknown):
            raise ValueError(
                f"{len(unknown)} series are not in the panel, e.g. {list(unknown[:3])}"
            )
    names = list(applicable_groups(panel) if groups is None else groups)
    if len(names) > MAX_GROUPS:
        raise ValueError(f"at most {MAX_GROUPS} input groups, got {names}")
    unknown_groups = set(names) - set(INPUT_GROUPS)
    if unknown_groups:
        raise ValueError(
            f"unknown input groups {sorted(unknown_groups)}; choose from {list(INPUT_GROUPS)}"
        )
    buckets = horizon_buckets(horizon)
    labels = [b[0] for b in buckets]
    if not len(keep):
        return pd.DataFrame(
            {c: pd.Series(dtype=object if c != "contribution" else float) for c in DRIVER_COLUMNS}
        )
    computed = replacements(panel, names)
    everything = frozenset(names)

    def value(actual: frozenset[str]) -> np.ndarray:
        scored = predict(reference_panel(panel, sorted(everything - actual), computed))
        return _totals_matrix(scored, keep, horizon, labels)

    result = shapley_values(value, names)
    level = reference_level(panel)[ids.get_indexer(keep)]
    days = np.array([last - first + 1 for _, first, last in buckets], dtype="float64")
    reference = level[:, None] * days[None, :]
    parts = [(REFERENCE, reference), *((g, result.values[g]) for g in names)]
    parts.append((MODEL_BASELINE, result.empty - reference))
    n, b, p = len(keep), len(labels), len(parts)
    contribution = np.stack([m for _, m in parts], axis=2)  # (series, bucket, part)
    out = pd.DataFrame(
        {
            "unique_id": np.repeat(keep.to_numpy(dtype=object), b * p),
            "horizon_bucket": np.tile(np.repeat(np.array(labels, dtype=object), p), n),
            "input_group": np.tile(np.array([name for name, _ in parts], dtype=object), n * b),
            "contribution": contribution.reshape(-1),
        }
    )
    seconds = time.perf_counter() - started
    log.info(
        "explained %d series x %d buckets over %d input groups with %d scorings in %.1f s",
        n,
        b,
        len(names),
        result.evaluations,
        seconds,
    )
    return out
