"""Administrator's setup of a MySQL/MariaDB database: tables and least-privilege users.

The pipeline itself never needs DDL rights. An administrator (or ``airflow-init`` in
``docker-compose.yaml``) runs ``forecasting init-db`` once, which

* creates the shop's source tables (for the demo; a real shop has its own) and the
  forecast tables, where missing;
* creates a **reader** with ``SELECT`` on the source tables only (extraction's
  connection, ``forecasting_source``), a **writer** with ``SELECT, INSERT, DELETE`` on
  the forecast tables only (publishing's connection, ``forecasting_warehouse``), and a
  **planner** with ``SELECT`` on the forecast tables only (people and reports).

User and database names are identifiers: they are checked against a whitelist
(:func:`forecasting.db.safe_identifier`) before they reach SQL; passwords are bound values.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from forecasting.db import dialect_of, execute_script, safe_identifier
from forecasting.sources.shop import create_forecast_tables, create_source_tables

__all__ = ["DatabaseUser", "init_database"]

log = logging.getLogger(__name__)

DatabaseUser = tuple[str, str]  # (user name, password)


def init_database(
    engine: Engine,
    *,
    source_tables: bool = True,
    reader: DatabaseUser | None = None,
    writer: DatabaseUser | None = None,
    planner: DatabaseUser | None = None,
) -> dict[str, object]:
    """Create tables and, on MySQL/MariaDB, the reader and writer users with their grants.

    Args:
        engine: An administrator's connection to the shop's database.
        source_tables: Create the shop's source tables too (demo databases).
        reader: User and password for extraction (``SELECT`` on source tables).
        writer: User and password for publishing (forecast tables only).
        planner: User and password for reading the forecast tables.

    Returns:
        What was set up.

    Raises:
        ValueError: For users on SQLite (it has none), or unsafe user/database names.
    """
    users = [
        (user, grants)
        for user, grants in (
            (reader, "grant_source_reader"),
            (writer, "grant_forecast_writer"),
            (planner, "grant_forecast_reader"),
        )
        if user
    ]
    if users:  # every name is checked before anything touches the database
        if dialect_of(engine) != "mysql":
            raise ValueError("database users and grants need MySQL or MariaDB (SQLite has none)")
        database = safe_identifier(str(engine.url.database or ""))
        for (user, _), _ in users:
            safe_identifier(user)
    if source_tables:
        create_source_tables(engine)
    create_forecast_tables(engine)
    from forecasting.publishing.publish import add_missing_columns

    add_missing_columns(engine)  # tables an earlier version created
    if not users:
        return {"database": str(engine.url.database), "source_tables": source_tables, "users": []}
    with engine.begin() as conn:
        for (user, password), grants in users:
            name = safe_identifier(user)
            execute_script(conn, "schema/create_user", {"password": password}, user=name)
            execute_script(conn, f"schema/{grants}", user=name, database=database)
            log.info("user %s: %s on %s", name, grants, database)
    return {
        "database": database,
        "source_tables": source_tables,
        "users": [u for (u, _), _ in users],
    }
