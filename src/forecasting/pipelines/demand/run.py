"""``run_pipeline``: every step of the demand pipeline in order, without Airflow (the CLI's
path), on one :class:`~forecasting.resources.Resources` for the whole run."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from datetime import date
from typing import Any

from forecasting.config import PipelineConfig, Settings
from forecasting.db import make_engine
from forecasting.leases import Lease, begin_run, end_run, process_holder, run_lease_key
from forecasting.names import DEMAND_PIPELINE
from forecasting.pipelines.demand.handoffs import HandOff
from forecasting.pipelines.demand.steps.backtest import backtest_step
from forecasting.pipelines.demand.steps.build_features import build_features_step
from forecasting.pipelines.demand.steps.check import check_step
from forecasting.pipelines.demand.steps.extract import extract_step
from forecasting.pipelines.demand.steps.fit import fit_step
from forecasting.pipelines.demand.steps.monitor import monitor_step
from forecasting.pipelines.demand.steps.publish import publish_step
from forecasting.pipelines.demand.steps.register import register_step
from forecasting.pipelines.demand.steps.score import score_step
from forecasting.pipelines.demand.steps.sync_source import sync_source_step
from forecasting.pipelines.demand.steps.validate import validate_step
from forecasting.resources import Resources
from forecasting.storage import Storage

__all__ = ["run_pipeline"]


def run_pipeline(
    run_day: date,
    settings: Settings,
    config: PipelineConfig,
    storage: Storage | None = None,
    holder: str | None = None,
    lease_wait: float = 0.0,
) -> dict[str, Any]:
    """Run every step in order without Airflow (what the CLI's ``run`` does).

    The run holds the date's lease (see :mod:`forecasting.leases`) from the first step to
    the last, renewed in the background; every commit checks it is still held.

    Args:
        run_day: The run's day.
        settings: Where things live.
        config: What the run does.
        storage: Shared storage (default: ``settings.storage_uri``).
        holder: Lease holder id (default: this process, ``cli:<host>:<pid>:<id>``).
        lease_wait: Seconds to wait for another run of the date to finish.

    Returns:
        Each step's result in its JSON-ready form (what the DAG's tasks pass through XCom),
        by step name (per-shard steps as lists), and the ``lease`` taken.

    Raises:
        LeaseHeldError: If another run holds the date.
    """
    storage = storage or Storage.from_uri(settings.storage_uri)
    lease = Lease(
        make_engine(settings.warehouse_url),  # its own pool: renewed from another thread
        run_lease_key(DEMAND_PIPELINE, run_day),
        holder or process_holder(),
    )
    out: dict[str, Any] = {"lease": begin_run(run_day, lease, storage, lease_wait)}
    try:
        with lease.kept_alive():
            out.update(_run_steps(run_day, settings, config, storage.fenced(lease.renew)))
    finally:
        end_run(lease)
    return out


def _run_steps(
    run_day: date, settings: Settings, config: PipelineConfig, storage: Storage
) -> dict[str, Any]:
    resources = Resources.from_settings(settings, storage)

    def step(name: str) -> contextlib.AbstractContextManager[None]:
        return _naming_a_full_disk(name, run_day, storage)

    with step("sync_source"):
        orders = sync_source_step(run_day, config, resources)
    with step("extract"):
        extracted = [extract_step(run_day, o, config, resources) for o in orders]
    with step("validate"):
        validated = [validate_step(run_day, e, config, resources) for e in extracted]
    with step("check"):
        checked = check_step(run_day, validated, orders, config, resources)
    with step("build_features"):
        features = [build_features_step(run_day, v, resources) for v in validated]
    with step("backtest"):
        backtests = [backtest_step(run_day, f, checked, config, resources) for f in features]
    with step("fit"):
        fitted = [fit_step(run_day, f, backtests, checked, config, resources) for f in features]
    with step("register"):
        registered = register_step(run_day, fitted, backtests, checked, config, resources)
    with step("score"):
        scored = [score_step(run_day, f, registered, config, resources) for f in features]
    with step("publish"):
        published = publish_step(run_day, scored, config, resources)
    with step("monitor"):
        monitored = monitor_step(run_day, features, orders[0], config, resources)
    from forecasting.reporting import write_report

    with step("report"):
        reported = write_report(run_day, settings, storage, resources=resources)
    results: dict[str, HandOff | list[Any]] = {
        "sync_source": orders,
        "extract": extracted,
        "validate": validated,
        "check": checked,
        "build_features": features,
        "backtest": backtests,
        "fit": fitted,
        "register": registered,
        "score": scored,
        "publish": published,
        "monitor": monitored,
    }
    out: dict[str, Any] = {
        name: [r.to_dict() for r in result] if isinstance(result, list) else result.to_dict()
        for name, result in results.items()
    }
    return {**out, "report": reported}


@contextlib.contextmanager
def _naming_a_full_disk(step: str, run_day: date, storage: Storage) -> Iterator[None]:
    """Turn a bare ``[Errno 28] No space left on device`` into one that names the step
    and the file (stage writes already name their stage)."""
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        raise storage.full(exc, f"step {step} of {run_day}") from exc
