"""The planner app: forecasts, their drivers and replenishment suggestions in a browser.

A small standalone web app (FastAPI, server-rendered Jinja2 pages, inline SVG charts) that
reads the warehouse with the read-only planner role and records planners' decisions on
replenishment suggestions. ``forecasting app`` starts it; see ``docs/planner_app.md``.
"""

from forecasting.app.server import create_app, serve

__all__ = ["create_app", "serve"]
