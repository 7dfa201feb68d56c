"""Leases: one run of a pipeline date at a time, whoever starts it.

Airflow's ``max_active_runs=1`` keeps one DAG of one deployment from running a date
twice, but nothing stops ``forecasting run --date D`` while Airflow runs ``D``, two CLI
runs, or two deployments. Two runs of a date at once would race on the same stage folders
and the same published rows, so every run takes a lease on its date first:

* ``demand_forecast/<day>`` and ``customer_models/<day>``: taken by a run's first step,
  renewed at every commit (and by a heartbeat while the CLI works), released by its last
  step -- also when the run failed (the DAGs release in a teardown task). A second run of
  the same date fails at once, in one line naming the date, the holder and since when;
  the CLI can ``--wait`` for it instead.
* ``store/<store id>``: the shared demand store (one per source database, read by every
  date) has one writer at a time; a sync waits for another to finish.

Leases live in the warehouse database, table ``forecasting_leases``. Every runner (the
CLI, every Airflow worker, another deployment) already reaches it; its primary key and
transactions make "take it if nobody holds it" atomic on SQLite and MySQL alike; and its
clock is the one clock every expiry is measured on. Object storage has none of these
portably (conditional writes differ between S3, MinIO and a local folder).

A lease expires when its holder stops renewing it (a killed process): then, or at once
when the holder is a CLI process on this machine that no longer exists, another run may
take it over. A run that lost its lease stops at its next commit (:class:`LeaseLostError`)
instead of writing over the new holder's work. ``forecasting leases list`` shows what is
held; ``forecasting leases release KEY`` frees a lease whose holder is known to be gone.

The package's modules: :mod:`~forecasting.leases.lease` (the :class:`Lease`: take, renew,
release, keep alive), :mod:`~forecasting.leases.table` (the table's rows, listing and
freeing leases), :mod:`~forecasting.leases.holders` (lease keys and holder ids) and
:mod:`~forecasting.leases.runs` (a run's first and last step).
"""

from forecasting.leases.holders import process_holder, run_lease_key
from forecasting.leases.lease import DEFAULT_TTL, Lease, LeaseHeldError, LeaseLostError
from forecasting.leases.runs import begin_run, end_run
from forecasting.leases.table import LeaseInfo, LeaseTableMissingError, list_leases, release_lease

__all__ = [
    "DEFAULT_TTL",
    "Lease",
    "LeaseHeldError",
    "LeaseInfo",
    "LeaseLostError",
    "LeaseTableMissingError",
    "begin_run",
    "end_run",
    "list_leases",
    "process_holder",
    "release_lease",
    "run_lease_key",
]
