"""Training: backtest every candidate, pick the winner, fit it on all data, log to MLflow."""

from forecasting.training.train import (
    TrainingOutcome,
    candidate_params,
    config_hash,
    run_candidates,
    train_and_log,
)

__all__ = ["TrainingOutcome", "candidate_params", "config_hash", "run_candidates", "train_and_log"]
