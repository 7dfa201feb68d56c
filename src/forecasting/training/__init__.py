"""Training: backtest every candidate on each shard, choose one winner for the catalogue,
fit it per shard, and decide on which days training runs at all (the cadence)."""

from forecasting.training.train import (
    candidate_config,
    candidate_params,
    config_hash,
    fit_final,
    metrics_table,
    pick_winner,
    run_candidates,
)

__all__ = [
    "candidate_config",
    "candidate_params",
    "config_hash",
    "fit_final",
    "metrics_table",
    "pick_winner",
    "run_candidates",
]
