"""The external systems a task talks to, built once per task.

A step never calls :func:`~forecasting.db.make_engine` or ``mlflow.MlflowClient()`` itself:
it receives a :class:`Resources` and uses its ``source``, ``warehouse``, ``tracker`` and
``storage``. Each is built on first use and then reused for the rest of the task, so a task
opens one connection pool per database; a test swaps one with :meth:`Resources.replace`
(as Dagster's examples swap a resource).

    resources = Resources.from_settings(settings, storage)
    frame = pd.read_sql(query, resources.warehouse)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from forecasting.config import EXPERIMENT_NAME, Settings
from forecasting.db import make_engine
from forecasting.storage import Storage

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from sqlalchemy.engine import Engine

__all__ = ["Resources"]


@dataclass(frozen=True)
class Resources:
    """Source and warehouse engines, the MLflow client and storage of one task.

    Attributes:
        settings: Where things live (URLs, storage root, time zones).
        storage_override: Storage to use instead of one opened from ``settings.storage_uri``
            (Airflow passes its lease-fenced ``ObjectStoragePath`` storage here).
        experiment: MLflow experiment the tracker is pointed at.
    """

    settings: Settings
    storage_override: Storage | None = None
    experiment: str = EXPERIMENT_NAME
    _swapped: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, storage: Storage | None = None) -> Resources:
        """Resources for ``settings``; ``storage`` replaces the one its URI would open."""
        return cls(settings, storage)

    def replace(self, **swapped: Any) -> Resources:
        """A copy with some resources swapped (``source=``, ``warehouse=``, ``tracker=``,
        ``storage=``), e.g. a test's engine on its own database."""
        unknown = set(swapped) - {"source", "warehouse", "tracker", "storage"}
        if unknown:
            raise TypeError(f"unknown resources: {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, _swapped={**self._swapped, **swapped})

    @cached_property
    def source(self) -> Engine:
        """The shop's database (read by extraction only)."""
        return self._swapped.get("source") or make_engine(self.settings.source_url)

    @cached_property
    def warehouse(self) -> Engine:
        """The database scored tables, leases and monitoring are written to."""
        if "warehouse" in self._swapped:
            return self._swapped["warehouse"]
        if self.settings.warehouse_url == self.settings.source_url and "source" in self.__dict__:
            return self.source
        return make_engine(self.settings.warehouse_url)

    @cached_property
    def experiment_id(self) -> str:
        """Id of :attr:`experiment` (created on first use); MLflow's fluent API is pointed at
        the tracking store and the experiment from then on."""
        from forecasting.registry.tracking import configure_mlflow

        return configure_mlflow(
            self.settings.tracking_uri, self.settings.artifact_root, self.experiment
        )

    @cached_property
    def tracker(self) -> MlflowClient:
        """The MLflow client, pointed at the tracking store and the experiment."""
        if "tracker" in self._swapped:
            return self._swapped["tracker"]
        from mlflow import MlflowClient

        self.experiment_id  # noqa: B018 (points MLflow at the store and the experiment)
        return MlflowClient(self.settings.tracking_uri, self.settings.tracking_uri)

    @cached_property
    def storage(self) -> Storage:
        """Where every task reads its inputs and writes its outputs."""
        if "storage" in self._swapped:
            return self._swapped["storage"]
        if self.storage_override is not None:
            return self.storage_override
        return Storage.from_uri(self.settings.storage_uri)
