"""What the demand pipeline's steps hand each other: one small frozen dataclass per step.

Each holds references (storage URIs, shard ids, model versions) and counts, never frames
or models. ``to_dict`` gives the JSON-ready form Airflow passes through XCom (and the CLI
prints); ``from_dict`` is its inverse, as for :class:`~forecasting.sharding.Shard`.

    WorkOrder -> Extracted -> Validated -> Checked -> Features -> Backtested -> Fitted
              -> Registered -> Scored -> Published -> Monitored
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Self

from forecasting.extraction.window import ExtractWindow
from forecasting.sharding import Shard
from forecasting.training.cadence import TrainingDecision
from forecasting.training.plan import TrainingPlan

__all__ = [
    "Backtested",
    "ChampionFacts",
    "Checked",
    "Extracted",
    "Features",
    "Fitted",
    "HandOff",
    "Monitored",
    "Published",
    "Registered",
    "Scored",
    "Validated",
    "WorkOrder",
]


def _encode(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return value


def _decode(kind: Any, value: Any) -> Any:
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        if value is None:
            return None
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    if value is None or not isinstance(kind, type):
        return value
    if kind is TrainingDecision:
        return TrainingDecision(**value)
    if hasattr(kind, "from_dict"):
        return value if isinstance(value, kind) else kind.from_dict(value)
    return value


@dataclass(frozen=True)
class HandOff:
    """Base of the hand-offs: the JSON-ready form and back."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what XCom holds)."""
        return {f.name: _encode(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of :meth:`to_dict` (fields missing from ``data`` take their defaults)."""
        hints = typing.get_type_hints(cls)
        return cls(
            **{f.name: _decode(hints[f.name], data[f.name]) for f in fields(cls) if f.name in data}
        )


@dataclass(frozen=True)
class _Skippable(HandOff):
    """A per-shard result that may be skipped (no training today, or no series)."""

    shard: Shard
    skipped: bool = False
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; a skipped result is only its ``shard``, ``skipped`` and ``reason``."""
        if self.skipped:
            return {"shard": self.shard.to_dict(), "skipped": True, "reason": self.reason}
        out = super().to_dict()
        del out["skipped"], out["reason"]
        return out


@dataclass(frozen=True)
class WorkOrder(HandOff):
    """``sync_source``: one shard's work order, with the run's source facts.

    Attributes:
        shard: The shard to work on.
        catalog_uri: The run's catalogue snapshot.
        store_uri: The incremental demand store.
        window: The run's extract window.
        quality: Data-quality counts of the run's day.
        sync: The store sync's facts (``rows``, ``seconds``, ``rows_per_second`` ...).
        events_uri: The event store (:mod:`forecasting.behaviour.store`); ``None`` when
            the source has no web events (and in work orders written before it existed).
    """

    shard: Shard
    catalog_uri: str
    store_uri: str
    window: ExtractWindow
    quality: dict[str, Any]
    sync: dict[str, Any]
    events_uri: str | None = None


@dataclass(frozen=True)
class Extracted(HandOff):
    """``extract``: the shard's extract (see :class:`~forecasting.extraction.ExtractResult`)
    and the ``catalog_uri`` validation reads."""

    uri: str
    shard: Shard
    window: ExtractWindow
    rows: int
    series: int
    future_rows: int
    fingerprint: str
    catalog_uri: str
    cleaning: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Validated(HandOff):
    """``validate``: the shard's report and the facts the catalogue checks use.

    Attributes:
        report_uri: ``validation.json`` of the shard.
        extract_uri: The extract it validated.
        first_sale: First day with a sale (ISO), ``None`` if it never sold.
        daily_units: Units sold per day (ISO day -> units).
        warnings: Findings that warn without failing.
    """

    report_uri: str
    extract_uri: str
    shard: Shard
    window: ExtractWindow
    series: int
    active_series: int
    rows: int
    fingerprint: str
    first_sale: str | None = None
    daily_units: dict[str, float] = field(default_factory=dict)
    cleaning: dict[str, float] = field(default_factory=dict)
    warnings: int = 0


@dataclass(frozen=True)
class ChampionFacts(HandOff):
    """The serving champion as ``check`` saw it (dates ISO, ``None`` if unknown)."""

    version: str
    data_end: str | None
    promoted_on: str | None
    backtest: dict[str, float]


@dataclass(frozen=True)
class Checked(HandOff):
    """``check``: the catalogue's facts and the training decision.

    Attributes:
        report_uri: The catalogue's ``validation.json``.
        fingerprint: Data fingerprint over every shard.
        series: Series in the catalogue; ``active_series`` those that sold recently.
        rows: Rows of every shard's extract.
        config_hash: Hash of the training configuration.
        decision: Whether today trains (:mod:`forecasting.training.cadence`).
        plan: The backtest the shop's history allows (:mod:`forecasting.training.plan`).
        champion: The serving champion (``None``: none yet).
        cleaning: Counts of the cleaning rules, summed over shards.
        quality: Data-quality counts of the source.
        sync: The store sync's facts.
        window: The run's extract window.
        warnings: Validation warnings over every shard.
        published: The published runs compared with (``previous``, ``same_date``).
        validation_reports: Every shard's ``validation.json``.
    """

    report_uri: str
    fingerprint: str
    series: int
    active_series: int
    rows: int
    config_hash: str
    decision: TrainingDecision
    plan: TrainingPlan
    champion: ChampionFacts | None
    cleaning: dict[str, float]
    quality: dict[str, Any]
    sync: dict[str, Any]
    window: ExtractWindow
    warnings: int
    published: dict[str, Any]
    validation_reports: list[str]


@dataclass(frozen=True)
class Features(HandOff):
    """``build_features``: the shard's features folder (``None`` days: no series)."""

    uri: str
    shard: Shard
    series: int
    history_days: int | None = None
    future_days: int | None = None


@dataclass(frozen=True)
class Backtested(_Skippable):
    """``backtest``: the shard's backtest folder, or why it was skipped."""

    uri: str = ""
    series: int = 0
    live_days: int = 0


@dataclass(frozen=True)
class Fitted(_Skippable):
    """``fit``: the shard's fitted model (below ``uri``), or why it was skipped."""

    uri: str = ""
    winner: str = ""
    plausibility: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Registered(HandOff):
    """``register``: the version pinned for scoring (``None``: no model may serve).

    Attributes:
        registered_version: The version registered today (training days only).
        candidate: The winner registered today (training days only).
    """

    version: str | None
    promoted: bool
    reason: str
    run_id: str
    decision: TrainingDecision
    registered_version: str | None = None
    candidate: str | None = None


@dataclass(frozen=True)
class Scored(HandOff):
    """``score``: the shard's forecasts folder and the model that made them."""

    uri: str
    shard: Shard
    rows: int
    series: int
    model_name: str
    model_version: str
    run_id: str


@dataclass(frozen=True)
class Published(HandOff):
    """``publish``: rows written and the run's ``forecast_runs`` row.

    Attributes:
        search_rows: Rows written to ``search_demand`` (0 without web events).
        driver_rows: Rows written to ``demand_forecast_drivers``.
        change_rows: Rows written to ``demand_forecast_changes`` (0 on a first run).
        suggestion_rows: Rows written to ``replenishment_suggestions`` (0 without a
            replenishment policy in the source).
    """

    rows: int
    table: str
    leadtime_rows: int
    run_date: str
    model_name: str
    model_version: str
    mlflow_run_id: str
    horizon_days: int
    series_count: int
    row_count: int
    search_rows: int = 0
    driver_rows: int = 0
    change_rows: int = 0
    suggestion_rows: int = 0


@dataclass(frozen=True)
class Monitored(HandOff):
    """``monitor``: accuracy rows written, the window and the decay verdict.

    Attributes:
        rows: Accuracy rows written (target days joined whole).
        updated: Rows whose late actual changed.
        summary_rows: Rows of the day's aggregates.
        window: First and last target day (ISO).
        uri: The run's ``monitor`` stage (summary and verdict, for the report).
        verdict: The decay verdict (``None`` without a champion).
    """

    rows: int
    updated: int
    summary_rows: int
    window: list[str]
    uri: str
    verdict: dict[str, Any] | None
