"""Allowed values of every model hyperparameter, checked when a model is built.

Each forecaster declares ``param_constraints`` (``{parameter: constraint}``) next to its
``__init__``; :meth:`forecasting.models.base.Forecaster.check_params` runs them. The
run configuration builds every candidate with its overrides when it is validated, so a
bad value (``{"hgb": {"max_iter": -5}}``) stops a run in its first second -- naming the
model, the parameter and what is allowed -- instead of in the backtest after the data
was read. scikit-learn checks its own estimators only in ``fit``; these are ours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Constraint", "InstanceOf", "Interval", "OneOf", "PositiveInts", "check_constraints"]


class Constraint:
    """One parameter's allowed values."""

    def allows(self, value: Any) -> bool:
        """Whether ``value`` is allowed."""
        raise NotImplementedError

    def describe(self) -> str:
        """What is allowed, for messages (``an integer >= 1``)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Interval(Constraint):
    """A number in a range.

    Attributes:
        kind: ``int`` or ``float`` (an int is accepted where a float is asked for).
        low: Lower bound (``None``: unbounded).
        high: Upper bound (``None``: unbounded).
        low_open: Exclude ``low`` itself.
        high_open: Exclude ``high`` itself.
        none: ``None`` is allowed too (it switches the feature off).
    """

    kind: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    none: bool = False

    def allows(self, value: Any) -> bool:
        if value is None:
            return self.none
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind is int and not isinstance(value, int):
            return False
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (
            self.high is not None and (value >= self.high if self.high_open else value > self.high)
        )

    def describe(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        low = None if self.low is None else f"{'>' if self.low_open else '>='} {self.low:g}"
        high = None if self.high is None else f"{'<' if self.high_open else '<='} {self.high:g}"
        text = f"{what} {' and '.join(b for b in (low, high) if b)}".strip()
        return f"{text} or null" if self.none else text


@dataclass(frozen=True)
class OneOf(Constraint):
    """One of a few values."""

    options: tuple[Any, ...]

    def allows(self, value: Any) -> bool:
        return any(value == o and type(value) is type(o) for o in self.options)

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)


@dataclass(frozen=True)
class PositiveInts(Constraint):
    """A non-empty list of integers >= 1 (layer sizes)."""

    def allows(self, value: Any) -> bool:
        return (
            isinstance(value, Sequence)
            and not isinstance(value, str)
            and len(value) > 0
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
        )

    def describe(self) -> str:
        return "a non-empty list of integers >= 1"


@dataclass(frozen=True)
class InstanceOf(Constraint):
    """An object of a class (or ``None``), e.g. a feature declaration."""

    kind: type
    none: bool = True

    def allows(self, value: Any) -> bool:
        return (value is None and self.none) or isinstance(value, self.kind)

    def describe(self) -> str:
        return f"an object of {self.kind.__name__} fields" + (" or null" if self.none else "")


def check_constraints(model: str, params: dict[str, Any], constraints: dict[str, Any]) -> None:
    """Check ``params`` against ``constraints``.

    Raises:
        ValueError: ``hgb.max_iter must be an integer >= 1 (got -5)``, for the first
            parameter that is not allowed.
    """
    for name, constraint in constraints.items():
        if name in params and not constraint.allows(params[name]):
            raise ValueError(
                f"{model}.{name} must be {constraint.describe()} (got {params[name]!r})"
            )
