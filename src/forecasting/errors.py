"""Errors that tell the orchestrator whether to retry.

:class:`NonRetryableError` and its subclasses mean running again cannot help (bad data, a
missing prerequisite); everything else -- a database or registry outage -- is worth a
retry with backoff.
"""

from __future__ import annotations

__all__ = [
    "ForeignDataError",
    "InsufficientHistoryError",
    "NoChampionError",
    "NonRetryableError",
    "RegistryUnavailableError",
]


class NonRetryableError(RuntimeError):
    """Bad data or a missing prerequisite; a retry would fail the same way."""


class NoChampionError(NonRetryableError):
    """Scoring needs an ``@champion`` model version and there is none."""


class RegistryUnavailableError(RuntimeError):
    """The MLflow tracking store or registry could not answer (outage, timeout); retrying
    later may succeed. Never mistaken for "there is no champion"."""


class ForeignDataError(NonRetryableError):
    """A loader (``seed-demo``, ``import``, the scale seed) was pointed at a database that
    holds data it did not write: nothing is deleted or written."""


class InsufficientHistoryError(NonRetryableError, ValueError):
    """Too little history for what was asked (a model, a backtest window): the message
    names the minimum and what there is."""
