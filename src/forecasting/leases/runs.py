"""A run's first and last step around its date's lease: check the storage, take the
lease, repair the date's broken pointers; give the lease back."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from forecasting.leases.lease import Lease
from forecasting.leases.table import _fmt
from forecasting.storage import Storage

__all__ = ["begin_run", "end_run"]

log = logging.getLogger(__name__)


def begin_run(run_day: date, lease: Lease, storage: Storage, wait: float = 0.0) -> dict[str, Any]:
    """A run's first step: check the storage takes files, take the date's lease, then
    check the date's stored stages.

    A ``_COMMITTED`` pointer that names a missing or unsealed attempt (see
    :meth:`~forecasting.storage.Storage.verify`) is logged and removed: this run writes
    that stage again.

    Returns:
        ``lease`` key, ``holder``, ``taken_at`` and the ``repaired`` pointers.

    Raises:
        StorageUnavailableError: If the storage root cannot be written.
        LeaseHeldError: If another run holds the date (after ``wait`` seconds).
    """
    storage.check_writable()
    info = lease.acquire(wait)
    try:
        repaired = storage.verify(run_day, repair=True)
    except BaseException:
        end_run(lease)
        raise
    for problem in repaired:
        log.warning("storage of %s: %s", run_day, problem)
    return {
        "lease": lease.key,
        "holder": lease.holder,
        "taken_at": _fmt(info.taken_at),
        "repaired": repaired,
    }


def end_run(lease: Lease) -> dict[str, Any]:
    """A run's last step (also after a failure): give the date's lease back.

    A warehouse that cannot be reached now never hides what the run did (or the error it
    stopped with): the lease is then left to expire, and the step says so.
    """
    try:
        released = lease.release()
    except Exception as exc:  # the lease expires by itself (``ttl``)
        log.warning("lease %s not released (%s): it expires by itself", lease.key, exc)
        released = False
    return {"lease": lease.key, "released": released}
