"""Batch scoring with the model version a run was pinned to."""

from forecasting.scoring.score import BadForecastError, score_panel

__all__ = ["BadForecastError", "score_panel"]
