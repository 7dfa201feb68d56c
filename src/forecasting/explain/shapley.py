"""Exact Shapley values over a handful of players by evaluating every coalition.

With ``K`` players the value function is evaluated ``2 ** K`` times (once per coalition,
each cached), and each player's value is the weighted mean of its marginal contributions

    phi_i = sum over S not holding i of |S|! (K - |S| - 1)! / K! * (v(S + i) - v(S)).

No sampling, no model-specific approximation: the values are exact, symmetric (players
that always contribute alike get equal values), zero for a player that never changes the
value, and *efficient*: they add up to ``v(all) - v(none)`` (to float rounding).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ShapleyResult", "coalitions", "shapley_values"]

log = logging.getLogger(__name__)

#: More players than this would take more than 1,024 evaluations.
_MAX_PLAYERS = 10


@dataclass(frozen=True)
class ShapleyResult:
    """Shapley values and the two ends of the game.

    Attributes:
        values: Each player's value, an array shaped like the value function's output.
        empty: ``v(no player)``.
        full: ``v(every player)``.
        evaluations: How many times the value function ran (``2 ** K``).
    """

    values: dict[str, np.ndarray]
    empty: np.ndarray
    full: np.ndarray
    evaluations: int


def coalitions(players: Sequence[str]) -> list[frozenset[str]]:
    """Every subset of ``players``, smallest first (the empty and the full set included)."""
    return [
        frozenset(c) for k in range(len(players) + 1) for c in itertools.combinations(players, k)
    ]


def shapley_values(
    value: Callable[[frozenset[str]], np.ndarray], players: Sequence[str]
) -> ShapleyResult:
    """Exact Shapley values of ``players`` in the game ``value``.

    Args:
        value: The value of a coalition (an array of any shape, the same for every
            coalition: e.g. forecast totals per series and horizon bucket).
        players: Distinct player names (at most 10).

    Returns:
        The values, with ``v(empty)``, ``v(full)`` and the number of evaluations.

    Raises:
        ValueError: For repeated names or too many players.
    """
    players = list(players)
    if len(set(players)) != len(players):
        raise ValueError(f"players must be distinct, got {players}")
    if len(players) > _MAX_PLAYERS:
        raise ValueError(f"{len(players)} players need {2 ** len(players)} evaluations")
    k = len(players)
    cache: dict[frozenset[str], np.ndarray] = {}
    for n, coalition in enumerate(coalitions(players), start=1):
        cache[coalition] = np.asarray(value(coalition), dtype="float64")
        log.debug("coalition %d/%d %s evaluated", n, 2**k, sorted(coalition))
    weight = [math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)]
    values: dict[str, np.ndarray] = {}
    for player in players:
        others = [p for p in players if p != player]
        total = np.zeros_like(cache[frozenset()])
        for s in coalitions(others):
            total += weight[len(s)] * (cache[s | {player}] - cache[s])
        values[player] = total
    return ShapleyResult(values, cache[frozenset()], cache[frozenset(players)], len(cache))
