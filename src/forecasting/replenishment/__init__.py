"""What to order: order-up-to suggestions from the lead-time quantiles, and an inventory
simulation that backtests them (:mod:`.policy`, :mod:`.simulate`)."""

from forecasting.replenishment.policy import (
    POSITION_COLUMNS,
    REPLENISHMENT_COLUMNS,
    ReplenishmentPolicy,
    demand_cdf,
    demand_quantile,
    demand_quantile_points,
    positions_from_source,
    round_orders,
    suggest_orders,
)

__all__ = [
    "POSITION_COLUMNS",
    "REPLENISHMENT_COLUMNS",
    "ReplenishmentPolicy",
    "demand_cdf",
    "demand_quantile",
    "demand_quantile_points",
    "positions_from_source",
    "round_orders",
    "suggest_orders",
]
