"""Old home of the planner report, now :mod:`forecasting.reporting`.

Kept only while ``dags/demand_forecast.py``, ``forecasting.cli`` and
``forecasting.pipelines.demand`` still import this name; remove it at merge.
"""

from forecasting.reporting import REPORT_ARTIFACT, REPORT_SECTIONS, build_report, write_report

__all__ = ["REPORT_ARTIFACT", "REPORT_SECTIONS", "build_report", "write_report"]
