import numpy as np
import pytest

from forecasting.explain.shapley import coalitions, shapley_values

WEIGHTS = {"a": 3.0, "b": -1.5, "c": 0.0}


def toy(coalition: frozenset[str]) -> np.ndarray:
    """Additive in a, b, c, plus an interaction of a and b shared equally between them,
    and a constant: a Shapley game whose values are known by hand."""
    value = 10.0 + sum(WEIGHTS[p] for p in coalition)
    if {"a", "b"} <= coalition:
        value += 4.0
    return np.array([value, 2 * value])


def test_exact_values_symmetry_null_player_and_efficiency() -> None:
    result = shapley_values(toy, ["a", "b", "c"])
    assert result.evaluations == 8
    np.testing.assert_allclose(result.values["a"], [3.0 + 2.0, 2 * (3.0 + 2.0)], atol=1e-12)
    np.testing.assert_allclose(result.values["b"], [-1.5 + 2.0, 2 * (-1.5 + 2.0)], atol=1e-12)
    np.testing.assert_array_equal(result.values["c"], [0.0, 0.0])  # a null player
    total = sum(result.values.values())
    np.testing.assert_allclose(total, result.full - result.empty, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(result.empty, [10.0, 20.0])


def test_symmetric_players_get_equal_values() -> None:
    def game(coalition: frozenset[str]) -> np.ndarray:
        # x and y are interchangeable; z doubles whatever x and y bring.
        base = len(coalition & {"x", "y"}) ** 2
        return np.array([base * (2.0 if "z" in coalition else 1.0)])

    result = shapley_values(game, ["x", "y", "z"])
    np.testing.assert_allclose(result.values["x"], result.values["y"], atol=1e-12)
    np.testing.assert_allclose(sum(result.values.values()), result.full - result.empty, atol=1e-12)


def test_every_coalition_once_and_bad_players() -> None:
    assert len(coalitions(["a", "b", "c", "d"])) == 16
    assert len(set(coalitions(["a", "b", "c", "d"]))) == 16
    with pytest.raises(ValueError, match="distinct"):
        shapley_values(toy, ["a", "a"])
