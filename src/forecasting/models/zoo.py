"""The model zoo: candidate names, their defaults and how to build them."""

from __future__ import annotations

import difflib
import re
from typing import Any

from forecasting.features.spec import FeatureSpec
from forecasting.models.base import Forecaster
from forecasting.names import MODEL_NAMES

__all__ = [
    "DEFAULT_ENSEMBLE_MEMBERS",
    "DEFAULT_QUANTILE_MEMBERS",
    "MODEL_NAMES",
    "ensemble_members",
    "make_model",
]

#: Members of the ``ensemble`` candidate unless ``model_params["ensemble"]["members"]`` says
#: otherwise: their point forecasts are averaged. Quantiles come from the gradient-boosting
#: member only: its negative-binomial quantiles had the lowest pinball loss on both
#: benchmark datasets; averaging in the MLP's or the linear model's did not help.
DEFAULT_ENSEMBLE_MEMBERS: tuple[str, ...] = ("hgb", "mlp", "linear")
DEFAULT_QUANTILE_MEMBERS: tuple[str, ...] = ("hgb",)


def ensemble_members(
    params: dict[str, Any] | None,
) -> tuple[list[str], list[float] | None, list[str]]:
    """Member names, weights and quantile members of the ensemble candidate."""
    params = params or {}
    members = list(params.get("members", DEFAULT_ENSEMBLE_MEMBERS))
    weights = params.get("weights")
    default_q = [m for m in DEFAULT_QUANTILE_MEMBERS if m in members] or members
    quantile_members = list(params.get("quantile_members", default_q))
    if "ensemble" in members or len(members) < 2:
        raise ValueError("an ensemble needs at least two members and cannot contain itself")
    if not quantile_members or set(quantile_members) - set(members):
        raise ValueError("quantile_members must be a non-empty subset of members")
    return members, None if weights is None else [float(w) for w in weights], quantile_members


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
        ValueError: For an unknown name or parameter, or a value outside the parameter's
            allowed range (:meth:`~forecasting.models.base.Forecaster.check_params`).
    """
    model = _build(name, horizon=horizon, seed=seed, params=params, all_params=all_params)
    return model.check_params(name)


def _build(
    name: str,
    *,
    horizon: int,
    seed: int,
    params: dict[str, Any] | None,
    all_params: dict[str, dict[str, Any]] | None,
) -> Forecaster:
    params = dict(params or {})
    if isinstance(params.get("features"), dict):
        try:
            params["features"] = FeatureSpec.from_dict(params["features"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}.features: {exc}") from exc
    if isinstance(params.get("hidden"), list):
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

            _no_unknown(name, params, ENSEMBLE_PARAMS)
            members, weights, quantile_members = ensemble_members(params)
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
            return EnsembleForecaster(built, weights, quantile_members)
    except TypeError as exc:  # an unknown keyword
        unknown = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
        if unknown is None:
            raise ValueError(f"bad parameters for {name}: {exc}") from exc
        raise ValueError(_unknown_message(name, unknown.group(1), _init_params(name))) from exc
    raise ValueError(f"unknown model {name!r}; choose from {MODEL_NAMES}")


#: What ``model_params["ensemble"]`` may set.
ENSEMBLE_PARAMS = ("members", "weights", "quantile_members")


def _init_params(name: str) -> list[str]:
    import inspect

    model = _build(name, horizon=1, seed=0, params={}, all_params={})
    return [p for p in inspect.signature(type(model).__init__).parameters if p != "self"]


def _no_unknown(name: str, params: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in params:
        if key not in allowed:
            raise ValueError(_unknown_message(name, key, list(allowed)))


def _unknown_message(name: str, key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]!r}?" if close else f"it takes {', '.join(allowed)}"
    return f"{name} has no parameter {key!r}; {hint}"
