"""Batch scoring with the registered ``@champion`` model."""

from forecasting.scoring.score import score_with_champion

__all__ = ["score_with_champion"]
