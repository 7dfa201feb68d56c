"""Moved to :mod:`forecasting.pipelines.demand` (one module per step).

Kept only for ``forecasting.cli``, which imports ``run_pipeline`` from here; remove at merge
once the CLI imports :func:`forecasting.pipelines.demand.run.run_pipeline`.
"""

from forecasting.pipelines.demand.run import run_pipeline

__all__ = ["run_pipeline"]
