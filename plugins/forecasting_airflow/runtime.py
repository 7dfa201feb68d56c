"""Turn an Airflow task context into the library's arguments, and errors into Airflow's."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ParamSpec, TypeVar

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

__all__ = ["RunContext", "fail_without_retry", "run_context", "sqlalchemy_url"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class RunContext:
    """What a pipeline step needs: the run date, settings and run configuration."""

    run_date: date
    settings: Any  # forecasting.config.Settings (imported lazily)
    config: Any  # forecasting.config.PipelineConfig


def sqlalchemy_url(conn_id: str) -> str | None:
    """SQLAlchemy URL of an Airflow connection, or ``None`` if it is not defined.

    Supports ``mysql`` connections (``mysql://user:pass@host:3306/db``, e.g. from
    ``AIRFLOW_CONN_FORECASTING_SOURCE``) and ``sqlite`` connections (host = file path).
    A connection may also carry a full URL in its extra field ``sqlalchemy_url``.
    """
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    extra = conn.extra_dejson or {}
    if extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    from sqlalchemy import URL

    if conn.conn_type == "sqlite":
        return f"sqlite:///{conn.host}"
    if conn.conn_type in ("mysql", "mariadb"):
        return URL.create(
            "mysql",
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or "localhost",
            port=conn.port or 3306,
            database=conn.schema or None,
        ).render_as_string(hide_password=False)
    raise ValueError(
        f"connection {conn_id!r} has unsupported type {conn.conn_type!r}; use mysql or sqlite"
    )


def run_context(context: Mapping[str, Any]) -> RunContext:
    """Build the run's date, settings and configuration from a task context.

    * Run date: the logical date (the DAG uses a data-interval timetable, so a scheduled
      run for logical date D starts after day D ends and processes history up to and
      including D; ``airflow dags test demand_forecast D`` does the same). Runs triggered
      without a logical date use their data interval's start.
    * Source and warehouse: the Airflow connections named by the ``source_conn_id`` and
      ``warehouse_conn_id`` params when they exist, else ``FORECASTING_SOURCE_URL`` /
      ``FORECASTING_WAREHOUSE_URL``, else a SQLite file in ``FORECASTING_DATA_DIR``.
    * Configuration: the DAG params, validated by :class:`PipelineConfig`.
    """
    from forecasting.config import PipelineConfig, Settings

    params = dict(context.get("params") or {})
    start = context.get("logical_date") or context.get("data_interval_start")
    if start is None:
        raise AirflowFailException("run has no data interval: trigger it with a logical date")
    run_date = start.in_timezone("UTC").date() if hasattr(start, "in_timezone") else start.date()
    source = sqlalchemy_url(str(params.pop("source_conn_id", "forecasting_source")))
    warehouse = sqlalchemy_url(str(params.pop("warehouse_conn_id", "forecasting_warehouse")))
    settings = Settings.from_env(source_url=source, warehouse_url=warehouse or source)
    fields = set(PipelineConfig.model_fields)
    config = PipelineConfig(**{k: v for k, v in params.items() if k in fields})
    return RunContext(run_date, settings, config)


def fail_without_retry(func: Callable[P, R]) -> Callable[P, R]:
    """Re-raise the library's non-retryable errors (bad data, no champion) as
    ``AirflowFailException`` so Airflow fails the task at once instead of retrying."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from forecasting.errors import NonRetryableError

        try:
            return func(*args, **kwargs)
        except NonRetryableError as exc:
            log.error("%s", exc)
            raise AirflowFailException(str(exc)) from exc

    return wrapper
