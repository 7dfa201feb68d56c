"""Where task outputs live: one storage root that every worker reaches.

Tasks hand each other URIs (strings), never data, and never a worker's local disk. Every
URI is below one root, ``FORECASTING_STORAGE_URI``: a local folder by default,
``s3://bucket/prefix`` in production (MinIO in ``docker-compose.yaml``). The root is a
``upath.UPath``; under Airflow it is an ``ObjectStoragePath`` (a UPath subclass) that
carries the storage connection, so this module only uses the pathlib-like API they share.

Layout::

    runs/ds=<day>/<stage>/[shard=<k>-of-<n>/]attempt=<id>/...   one task's output
    runs/ds=<day>/<stage>/[shard=...]/_COMMITTED                   which attempt is current
    store/...                                                      incremental source cache

Commit protocol (object stores cannot rename atomically): a task writes its files into a
fresh ``attempt=<UTC time>-<id>`` folder, then ``_SUCCESS`` listing them, then the
``_COMMITTED`` pointer (one small object, replaced in one write). Readers only open
attempts that have ``_SUCCESS``, so a partial folder left by a killed task is never
trusted.

Clean-up never races a live writer: a commit deletes the other attempts of its stage only
once they are older than :data:`ATTEMPT_GRACE` (longer than any run may live, so their
writer is gone), and never the attempt ``_COMMITTED`` names at that moment. Before the
pointer is written the storage's ``fence`` runs (the run's lease: a run that lost it
never commits), and the sealed attempt is checked to be still there, so ``_COMMITTED``
never names a missing attempt. :meth:`Storage.verify` finds a pointer that does anyway
(written by an older version, or a damaged store) and, with ``repair``, removes it: the
stage then counts as never finished and the next run of the date writes it again.

The package's modules: :mod:`~forecasting.storage.root` (the :class:`Storage` root and
its stage folders), :mod:`~forecasting.storage.attempts` (attempt folders, sealing and
clean-up) and :mod:`~forecasting.storage.files` (atomic writes, JSON, parquet, folders).
"""

from forecasting.storage.attempts import (
    ATTEMPT_GRACE,
    ATTEMPT_PREFIX,
    COMMITTED,
    SUCCESS,
    attempt_of,
    is_stale_temp,
    remove_leftovers,
    seal,
)
from forecasting.storage.files import (
    download_dir,
    read_json,
    read_parquet,
    upload_dir,
    write_bytes_atomic,
    write_json,
    write_parquet,
)
from forecasting.storage.root import (
    PartialOutputError,
    Storage,
    StorageConflictError,
    StorageFullError,
    StorageUnavailableError,
)

__all__ = [
    "ATTEMPT_GRACE",
    "ATTEMPT_PREFIX",
    "COMMITTED",
    "SUCCESS",
    "PartialOutputError",
    "Storage",
    "StorageConflictError",
    "StorageFullError",
    "StorageUnavailableError",
    "attempt_of",
    "download_dir",
    "is_stale_temp",
    "read_json",
    "read_parquet",
    "remove_leftovers",
    "seal",
    "upload_dir",
    "write_bytes_atomic",
    "write_json",
    "write_parquet",
]
