"""What a person reads about a run date: the planner report and the run summary.

- :func:`write_report` (:mod:`~forecasting.reporting.planner`): the planner report, one
  self-contained HTML page per run date rendered from the Jinja2 templates in
  ``templates/`` (autoescaped).
- :func:`run_summary` (:mod:`~forecasting.reporting.summary`): the plain-text summary
  ``forecasting summary`` and ``make demo`` print.
"""

from forecasting.reporting.inputs import committed_shards, validation_reports
from forecasting.reporting.planner import (
    REPORT_ARTIFACT,
    REPORT_SECTIONS,
    build_report,
    write_report,
)
from forecasting.reporting.summary import run_summary

__all__ = [
    "REPORT_ARTIFACT",
    "REPORT_SECTIONS",
    "build_report",
    "committed_shards",
    "run_summary",
    "validation_reports",
    "write_report",
]
