"""Errors the orchestrator should not retry: running again cannot fix them."""

from __future__ import annotations

__all__ = ["NoChampionError", "NonRetryableError"]


class NonRetryableError(RuntimeError):
    """Bad data or a missing prerequisite; a retry would fail the same way."""


class NoChampionError(NonRetryableError):
    """Scoring needs an ``@champion`` model version and there is none."""
