"""What the customer steps hand each other: small frozen dataclasses holding references
(storage URIs, model versions, counts), never frames; ``to_dict``/``from_dict`` give
Airflow the JSON it passes between tasks."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Extracted", "Published", "Scored", "Trained", "Validated"]

H = TypeVar("H", bound="_Handoff")


class _Handoff:
    """``to_dict``/``from_dict`` for a flat frozen dataclass of JSON values."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[H], data: dict[str, Any]) -> H:
        """Inverse of :meth:`to_dict` (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Extracted(_Handoff):
    """The pseudonymised customer lines of the run's window.

    Attributes:
        uri: The ``customers_extract`` stage (``lines.parquet``, ``counts.json``).
        counts: Orders, lines, customers, and orders left out (no customer, opted out).
        fingerprint: SHA-256 of the lines.
        forgotten: How many customers opted out.
        optouts_fingerprint: One hash of the whole opt-out set.
        forget: What the stored partitions of earlier dates lost to the opt-outs.
        first_day: First day of the window (ISO).
    """

    uri: str
    counts: dict[str, int]
    fingerprint: str
    forgotten: int
    optouts_fingerprint: str
    forget: dict[str, int]
    first_day: str


@dataclass(frozen=True)
class Validated(Extracted):
    """:class:`Extracted` lines that passed validation.

    Attributes:
        report_uri: The validation report (``validation.json``).
        customers: Distinct customers in the lines.
        rules: Rules checked.
    """

    report_uri: str = ""
    customers: int = 0
    rules: int = 0

    @classmethod
    def of(cls, extracted: Extracted, report_uri: str, customers: int, rules: int) -> Validated:
        """``extracted`` with the validation's results."""
        return cls(**extracted.to_dict(), report_uri=report_uri, customers=customers, rules=rules)


@dataclass(frozen=True)
class Trained(_Handoff):
    """One customer model's training outcome and the version pinned for the day.

    Attributes:
        version: The version the day is scored with (``None``: none may serve).
        promoted: The day's candidate became ``@champion``.
        reason: Why (the cadence's or the promotion rule's words).
        run_id: The date's MLflow run (``None``: an identical earlier run was reused).
        candidate: The backtest's winner (training days only).
        registered_version: The version registered today (training days only).
        metric: The metric the rule compared.
        score: The winner's backtest score.
        best_baseline: The best baseline's score on the same window.
    """

    version: str | None
    promoted: bool
    reason: str
    run_id: str | None = None
    candidate: str | None = None
    registered_version: str | None = None
    metric: str | None = None
    score: float | None = None
    best_baseline: float | None = None


@dataclass(frozen=True)
class Scored(_Handoff):
    """Every customer scored with the pinned versions.

    Attributes:
        uri: The ``customers_scores`` stage (``propensity.parquet``,
            ``recommendations.parquet``).
        versions: The versions used, keys ``propensity`` and ``recommendations``.
        customers: Customers scored.
        recommendation_rows: Recommendation rows.
    """

    uri: str
    versions: dict[str, str]
    customers: int
    recommendation_rows: int


@dataclass(frozen=True)
class Published(_Handoff):
    """What publishing wrote.

    Attributes:
        rows: Rows written per table, and ``forgotten_rows`` deleted.
        versions: The versions published.
        run_date: The run's day (ISO).
    """

    rows: dict[str, int]
    versions: dict[str, str]
    run_date: str
