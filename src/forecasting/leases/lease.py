"""A :class:`Lease` on one key: taking it (or waiting for it), renewing it (a run's
fence), keeping it alive while work runs, and giving it back."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from forecasting.db import dialect_of, read_frame, render_sql, retrying
from forecasting.errors import NonRetryableError
from forecasting.leases.holders import _local_process_gone
from forecasting.leases.table import LeaseInfo, _ensure_table, _info

__all__ = ["DEFAULT_TTL", "Lease", "LeaseHeldError", "LeaseLostError"]

log = logging.getLogger(__name__)

#: How long a lease lasts without renewal. The CLI renews it every ``DEFAULT_TTL / 5``
#: while it works, so a killed CLI run blocks its date for at most this long.
DEFAULT_TTL = timedelta(minutes=10)


class LeaseHeldError(NonRetryableError):
    """Another run holds the lease (the message names it, and since when)."""


class LeaseLostError(NonRetryableError):
    """The run's lease expired and another run took it over: this run must stop writing."""


class Lease:
    """A lease on ``key`` for ``holder`` in the warehouse's ``forecasting_leases`` table.

    Args:
        engine: The warehouse database.
        key: What to lease (see :func:`run_lease_key`).
        holder: Who takes it; the same holder may take it again (a retried task).
        ttl: How long it lasts without renewal.
    """

    def __init__(self, engine: Engine, key: str, holder: str, ttl: timedelta = DEFAULT_TTL) -> None:
        self.engine = engine
        self.key = key
        self.holder = holder
        self.ttl = ttl
        self._lost: LeaseLostError | None = None

    def __repr__(self) -> str:
        return f"Lease({self.key!r}, holder={self.holder!r})"

    def _params(self, **extra: Any) -> dict[str, Any]:
        return {
            "lease_key": self.key,
            "holder": self.holder,
            "ttl_seconds": int(self.ttl.total_seconds()),
            **extra,
        }

    def _execute(self, name: str, params: dict[str, Any]) -> int:
        def statement() -> int:
            with self.engine.begin() as conn:
                sql = sa.text(render_sql(f"leases/{name}", dialect_of(conn)))
                return int(conn.execute(sql, params).rowcount)

        return retrying(statement, f"lease {self.key}", self.engine.url)

    def current(self) -> LeaseInfo | None:
        """The lease's row as it is now, or ``None`` if nobody holds it."""

        def read() -> LeaseInfo | None:
            _ensure_table(self.engine)
            rows = read_frame(self.engine, "leases/select_lease", {"lease_key": self.key})
            return _info(rows.iloc[0].to_dict()) if len(rows) else None

        return retrying(read, f"lease {self.key}", self.engine.url)

    def _try_take(self) -> LeaseInfo | None:
        """Take the lease if it is free, expired, ours, or a dead local CLI run's."""
        for _ in range(3):  # another runner may win a race between the read and the write
            seen = self.current()
            if seen is None:
                try:
                    self._execute("insert_lease", self._params())
                except IntegrityError:
                    continue
                return self.current()
            gone = _local_process_gone(seen.holder)
            if seen.holder != self.holder and not seen.expired and not gone:
                return None
            taken = self._execute(
                "take_over_lease",
                self._params(seen_holder=seen.holder, dead_holder=1 if gone else 0),
            )
            if taken:
                if seen.holder != self.holder:
                    log.warning(
                        "lease %s taken over from %s (%s)",
                        self.key,
                        seen.holder,
                        "its process is gone" if gone else "expired",
                    )
                return self.current()
        return None

    def acquire(self, wait: float = 0.0, poll: float = 2.0) -> LeaseInfo:
        """Take the lease, waiting up to ``wait`` seconds for its holder to finish.

        Raises:
            LeaseHeldError: If another run still holds it after ``wait`` seconds.
        """
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            taken = self._try_take()
            if taken is not None:
                self._lost = None
                log.info("lease %s taken by %s", self.key, self.holder)
                return taken
            if time.monotonic() >= deadline:
                held = self.current()
                raise LeaseHeldError(self._held_message(held, wait))
            time.sleep(min(poll, max(deadline - time.monotonic(), 0.01)))

    def _held_message(self, held: LeaseInfo | None, wait: float) -> str:
        pipeline, _, day = self.key.partition("/")
        what = f"{pipeline} for {day}" if day and pipeline != "store" else self.key
        where = held.describe() if held else "held by another run"
        waited = f" after waiting {wait:g} s" if wait > 0 else ""
        return (
            f"{what} is already running{waited}: {where}; wait for it to finish, or if that "
            f"run is gone, `forecasting leases release {self.key}`"
        )

    def renew(self) -> None:
        """Extend the lease (the run's fence: called before every commit).

        Raises:
            LeaseLostError: If another run took it over (this run must stop writing).
        """
        if self._lost is not None:
            raise self._lost
        if self._execute("renew_lease", self._params()):
            return
        held = self.current()
        now = f"now {held.describe()}" if held else "nobody holds it now"
        self._lost = LeaseLostError(
            f"{self.holder} lost the lease {self.key} ({now}): this run stops without "
            "committing; the other run's results stand"
        )
        raise self._lost

    def release(self) -> bool:
        """Give the lease back if this holder still has it. Returns whether it had."""
        released = bool(self._execute("delete_lease", self._params()))
        if released:
            log.info("lease %s released by %s", self.key, self.holder)
        return released

    @contextlib.contextmanager
    def kept_alive(self, every: float | None = None) -> Iterator[Lease]:
        """Renew the lease in a background thread while the block runs.

        A renewal that finds the lease gone records it: the next :meth:`renew` (the next
        commit) raises :class:`LeaseLostError`. A database hiccup is logged and retried at
        the next beat (the lease's ``ttl`` leaves room for several).
        """
        interval = every if every is not None else self.ttl.total_seconds() / 5
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(interval):
                try:
                    self.renew()
                except LeaseLostError:
                    log.error("lease %s lost while working", self.key)
                    return
                except Exception as exc:  # the warehouse blinked: try again next beat
                    log.warning("lease %s not renewed: %s", self.key, exc)

        thread = threading.Thread(target=beat, name=f"lease {self.key}", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()

    @contextlib.contextmanager
    def held(self, wait: float = 0.0) -> Iterator[Lease]:
        """Acquire, keep alive while the block runs, release afterwards (also on errors)."""
        self.acquire(wait)
        try:
            with self.kept_alive():
                yield self
        finally:
            with contextlib.suppress(Exception):  # an expired lease is freed by expiry
                self.release()
