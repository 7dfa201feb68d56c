"""The ``forecasting_leases`` table: its rows as :class:`LeaseInfo`, creating it where it
is missing, and the operator's view of it (listing every lease, freeing one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from forecasting.db import dialect_of, is_transient, read_frame, render_sql
from forecasting.errors import NonRetryableError

__all__ = ["LeaseInfo", "LeaseTableMissingError", "list_leases", "release_lease"]


class LeaseTableMissingError(NonRetryableError):
    """The warehouse has no ``forecasting_leases`` and the run's user may not create it."""


@dataclass(frozen=True)
class LeaseInfo:
    """One row of ``forecasting_leases``; times are UTC (the warehouse's clock).

    Attributes:
        key: What is leased (``demand_forecast/2024-06-30``).
        holder: Who holds it (``airflow:<dag_id>/<run_id>``, ``cli:<host>:<pid>:<id>``).
        taken_at: When the holder took it.
        renewed_at: The holder's last renewal.
        expires_at: When another run may take it over unless renewed.
        expired: Whether ``expires_at`` has passed.
    """

    key: str
    holder: str
    taken_at: datetime
    renewed_at: datetime
    expires_at: datetime
    expired: bool

    def describe(self) -> str:
        """``held by X since T UTC (last renewed R, expires E)``."""
        return (
            f"held by {self.holder} since {_fmt(self.taken_at)} UTC (last renewed "
            f"{_fmt(self.renewed_at)}, {'expired' if self.expired else 'expires'} "
            f"{_fmt(self.expires_at)})"
        )


def _fmt(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _info(row: dict[str, Any]) -> LeaseInfo:
    def when(value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

    return LeaseInfo(
        key=str(row["lease_key"]),
        holder=str(row["holder"]),
        taken_at=when(row["taken_at"]),
        renewed_at=when(row["renewed_at"]),
        expires_at=when(row["expires_at"]),
        expired=bool(int(row["expired"])),
    )


#: Databases (URLs) already known to have ``forecasting_leases``.
_HAVE_TABLE: set[str] = set()


def _ensure_table(engine: Engine) -> None:
    """Create ``forecasting_leases`` where missing (a database the pipeline owns); a
    least-privilege writer cannot, and is told who can. Checked once per database and
    process (a lease is read at every poll while waiting)."""
    if str(engine.url) in _HAVE_TABLE:
        return
    if sa.inspect(engine).has_table("forecasting_leases"):
        _HAVE_TABLE.add(str(engine.url))
        return
    from sqlalchemy.exc import DBAPIError

    from forecasting.db import execute_script, redact_url

    try:
        with engine.begin() as conn:
            execute_script(conn, "schema/create_lease_table")
    except DBAPIError as exc:
        if is_transient(exc):
            raise
        raise LeaseTableMissingError(
            f"the table forecasting_leases is missing in {redact_url(engine.url)} and this "
            "user may not create it: an administrator runs `forecasting init-db "
            "--no-source-tables --writer-user <user>` once (it creates the table and grants "
            "the writer access)"
        ) from exc


def list_leases(engine: Engine) -> list[LeaseInfo]:
    """Every row of ``forecasting_leases``, oldest first."""
    _ensure_table(engine)
    return [_info(r) for r in read_frame(engine, "leases/select_leases", {}).to_dict("records")]


def release_lease(engine: Engine, key: str) -> bool:
    """Free ``key`` whoever holds it (an operator's step when its holder is known to be
    gone). Returns whether there was such a lease."""
    _ensure_table(engine)
    with engine.begin() as conn:
        sql = sa.text(render_sql("leases/force_delete_lease", dialect_of(conn)))
        return bool(conn.execute(sql, {"lease_key": key}).rowcount)
