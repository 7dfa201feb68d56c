"""The model zoo: candidate names, their defaults and how to build them."""

from __future__ import annotations

from typing import Any

from forecasting.features.spec import FeatureSpec
from forecasting.models.base import Forecaster

__all__ = ["DEFAULT_ENSEMBLE_MEMBERS", "MODEL_NAMES", "ensemble_members", "make_model"]

#: Every candidate name the pipeline and the benchmark understand.
MODEL_NAMES: tuple[str, ...] = (
    "seasonal_naive",
    "linear",
    "linear_hurdle",
    "hgb",
    "mlp",
    "ensemble",
)
#: Members of the ``ensemble`` candidate unless ``model_params["ensemble"]["members"]`` says otherwise.
DEFAULT_ENSEMBLE_MEMBERS: tuple[str, ...] = ("hgb", "mlp")


def ensemble_members(params: dict[str, Any] | None) -> tuple[list[str], list[float] | None]:
    """Member names and weights of the ensemble candidate from its params."""
    params = params or {}
    members = list(params.get("members", DEFAULT_ENSEMBLE_MEMBERS))
    weights = params.get("weights")
    if "ensemble" in members or len(members) < 2:
        raise ValueError("an ensemble needs at least two members and cannot contain itself")
    return members, None if weights is None else [float(w) for w in weights]


def make_model(
    name: str,
    *,
    horizon: int,
    seed: int = 42,
    params: dict[str, Any] | None = None,
    all_params: dict[str, dict[str, Any]] | None = None,
) -> Forecaster:
    """Build an unfitted candidate.

    Args:
        name: One of :data:`MODEL_NAMES`.
        horizon: Forecast horizon the model must cover.
        seed: Random seed.
        params: Hyperparameter overrides for this model (``features`` may be a dict that
            becomes a :class:`FeatureSpec`).
        all_params: Overrides of every model (the ensemble builds its members from it).

    Raises:
        ValueError: For an unknown name or parameter.
    """
    params = dict(params or {})
    if isinstance(params.get("features"), dict):
        params["features"] = FeatureSpec.from_dict(params["features"])
    if "hidden" in params:
        params["hidden"] = tuple(params["hidden"])
    common = {"horizon": horizon, "random_state": seed}
    try:
        if name == "seasonal_naive":
            from forecasting.models.naive import SeasonalNaive

            return SeasonalNaive(**params)
        if name in ("linear", "linear_hurdle"):
            from forecasting.models.linear import LinearForecaster

            return LinearForecaster(**{**common, "hurdle": name == "linear_hurdle", **params})
        if name == "hgb":
            from forecasting.models.gbm import GradientBoostingForecaster

            return GradientBoostingForecaster(**{**common, **params})
        if name == "mlp":
            from forecasting.models.neural import MLPForecaster

            return MLPForecaster(**{**common, **params})
        if name == "ensemble":
            from forecasting.models.ensemble import EnsembleForecaster

            members, weights = ensemble_members(params)
            all_params = all_params or {}
            built = [
                (
                    m,
                    make_model(
                        m,
                        horizon=horizon,
                        seed=seed,
                        params=all_params.get(m),
                        all_params=all_params,
                    ),
                )
                for m in members
            ]
            return EnsembleForecaster(built, weights)
    except TypeError as exc:  # unknown keyword
        raise ValueError(f"bad parameters for model {name!r}: {exc}") from exc
    raise ValueError(f"unknown model {name!r}; choose from {MODEL_NAMES}")
