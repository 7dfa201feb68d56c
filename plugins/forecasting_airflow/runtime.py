"""Turn an Airflow task context into the library's arguments, and errors into Airflow's."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any, ParamSpec, TypeVar

from airflow.sdk import BaseHook, ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

from forecasting_airflow.params import DEFAULT_ARGS

__all__ = [
    "CUSTOMER_KEY_ID",
    "LEASE_TTL",
    "RunContext",
    "customer_key",
    "fail_without_retry",
    "lease_holder",
    "measured",
    "run_context",
    "run_day_of",
    "sqlalchemy_url",
]

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class RunContext:
    """What a pipeline step needs: the run's day, settings, configuration, storage, and the
    run's lease on its date (every commit to ``storage`` renews it first)."""

    run_day: date
    settings: Any  # forecasting.config.Settings (imported lazily)
    config: Any  # forecasting.config.PipelineConfig
    storage: Any  # forecasting.storage.Storage over an ObjectStoragePath, fenced by the lease
    lease: Any  # forecasting.leases.Lease of this DAG run on its date

    @cached_property
    def resources(self) -> Any:
        """The task's :class:`~forecasting.resources.Resources` (engines, MLflow client and
        this fenced storage), built once per task; its warehouse is the lease's engine (one
        connection pool per database and task)."""
        from forecasting.resources import Resources

        resources = Resources.from_settings(self.settings, self.storage)
        return resources.replace(warehouse=self.lease.engine)


#: How long an Airflow run's lease lasts without renewal. Tasks renew it at every commit (and
#: before they register or publish), not in the background, so it outlasts the longest task.
LEASE_TTL = DEFAULT_ARGS["execution_timeout"] + timedelta(minutes=10)


def lease_holder(context: Mapping[str, Any]) -> str:
    """The lease holder of a DAG run: ``airflow:<dag_id>/<run_id>``, the same for every task
    and try of the run (a retried or cleared task keeps its run's lease)."""
    ti = context.get("ti")
    dag_id = getattr(ti, "dag_id", None) or context["dag"].dag_id
    run_id = getattr(ti, "run_id", None) or context["run_id"]
    return f"airflow:{dag_id}/{run_id}"


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


def _has_connection(conn_id: str) -> bool:
    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True


def run_day_of(context: Mapping[str, Any], shop_timezone: str) -> date:
    """The run's day: the last complete day of its data interval, in the shop's timezone.

    ``data_interval_end - 1 day`` in the shop's timezone: a scheduled or backfilled run for
    logical date D covers [D, D + 1 day) and processes day D; a manual trigger at 15:00
    on day X covers the last complete interval, so it forecasts from X - 1, never from a
    half-finished day; ``airflow dags test demand_forecast X`` is such a manual run.

    Raises:
        AirflowFailException: If the run has no data interval (a run triggered without a
            logical date).
    """
    end = context.get("data_interval_end")
    if end is None:
        raise AirflowFailException(
            "the run has no data interval: trigger it with a logical date (the run's day is "
            "the last complete day of its data interval)"
        )
    local = end.in_timezone(shop_timezone) if hasattr(end, "in_timezone") else end
    return local.date() - timedelta(days=1)


def run_context(context: Mapping[str, Any], config_class: Any = None) -> RunContext:
    """Build the run's day, settings, configuration and storage from a task context.

    * Source, warehouse and storage: the Airflow connections named by the
      ``source_conn_id``, ``warehouse_conn_id`` and ``storage_conn_id`` params when they
      exist, else ``FORECASTING_SOURCE_URL`` / ``FORECASTING_WAREHOUSE_URL`` /
      ``FORECASTING_STORAGE_URI`` from the environment, else local files.
    * Configuration: the DAG params, validated by ``config_class`` (default
      :class:`PipelineConfig`; the customer DAG passes its ``CustomerConfig``).
    """
    from pydantic import ValidationError

    from forecasting.config import PipelineConfig, Settings, describe_invalid
    from forecasting.storage import Storage

    config_class = config_class or PipelineConfig

    params = dict(context.get("params") or {})
    source = sqlalchemy_url(str(params.pop("source_conn_id", "forecasting_source")))
    warehouse = sqlalchemy_url(str(params.pop("warehouse_conn_id", "forecasting_warehouse")))
    storage_conn = str(params.pop("storage_conn_id", "forecasting_storage"))
    settings = Settings.from_env(source_url=source, warehouse_url=warehouse or source)
    fields = set(config_class.model_fields)
    try:
        config = config_class(**{k: v for k, v in params.items() if k in fields})
    except ValidationError as exc:  # bad params never get better by retrying
        # from None: the one line is the whole story (the chained error adds a framework URL)
        raise AirflowFailException(f"invalid DAG params: {describe_invalid(exc)}") from None
    root = ObjectStoragePath(
        settings.storage_uri, conn_id=storage_conn if _has_connection(storage_conn) else None
    )
    run_day = run_day_of(context, settings.shop_timezone)
    lease = _run_lease(context, settings, run_day)
    return RunContext(run_day, settings, config, Storage(root, lease.renew), lease)


def _run_lease(context: Mapping[str, Any], settings: Any, run_day: date) -> Any:
    from forecasting.db import make_engine
    from forecasting.leases import Lease, run_lease_key

    ti = context.get("ti")
    dag_id = getattr(ti, "dag_id", None) or context["dag"].dag_id
    return Lease(
        make_engine(settings.warehouse_url),
        run_lease_key(dag_id, run_day),
        lease_holder(context),
        LEASE_TTL,
    )


#: Airflow connection (its password) or variable holding the customer pseudonymisation key.
CUSTOMER_KEY_ID = "forecasting_customer_key"


def customer_key() -> bytes:
    """The customer pseudonymisation key: the password of the Airflow connection
    ``forecasting_customer_key``, else the Airflow variable of that name, else
    ``$FORECASTING_CUSTOMER_KEY``. Never logged.

    Raises:
        AirflowFailException: If none is set (a missing key is never replaced by a default).
    """
    from airflow.sdk import Variable

    from forecasting.customers.privacy import MissingKeyError
    from forecasting.customers.privacy import customer_key as checked_key

    value: str | None = None
    try:
        value = BaseHook.get_connection(CUSTOMER_KEY_ID).password or None
    except AirflowNotFoundException:
        value = None
    if value is None:
        try:
            value = Variable.get(CUSTOMER_KEY_ID, default=None)
        except Exception:  # no variable backend reachable: fall through to the environment
            value = None
    try:
        return checked_key(value)
    except MissingKeyError as exc:
        raise AirflowFailException(str(exc)) from exc


def fail_without_retry(func: Callable[P, R]) -> Callable[P, R]:
    """Re-raise the library's non-retryable errors (bad data, no champion, bad forecasts)
    as ``AirflowFailException`` so Airflow fails the task at once instead of retrying."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from forecasting.errors import NonRetryableError

        try:
            return func(*args, **kwargs)
        except NonRetryableError as exc:
            log.error("%s", exc)
            raise AirflowFailException(str(exc)) from exc

    return wrapper


def _release_memory() -> None:
    """Free what the task left behind, so the next task run in the same process
    (``airflow dags test`` runs them all in one) is measured on its own."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def measured(func: Callable[P, R]) -> Callable[P, R]:
    """Log the task's wall time and peak resident memory (sampled every 0.1 s) when it ends.

    The line ``forecasting task <task>[<map index>]: wall <s> s, peak RSS <MB> MB`` is what
    the scale benchmark reads from the task logs.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        import psutil

        process = psutil.Process(os.getpid())
        peak = [process.memory_info().rss]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.1):
                peak[0] = max(peak[0], process.memory_info().rss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = func(*args, **kwargs)
            outcome = "done"
            return result
        finally:
            stop.set()
            sampler.join()
            peak[0] = max(peak[0], process.memory_info().rss)
            _release_memory()
            ti = kwargs.get("ti")
            name = f"{getattr(ti, 'task_id', func.__name__)}[{getattr(ti, 'map_index', -1)}]"
            log.info(
                "forecasting task %s: wall %.1f s, peak RSS %.0f MB (%s)",
                name,
                time.perf_counter() - started,
                peak[0] / 2**20,
                outcome,
            )

    return wrapper
