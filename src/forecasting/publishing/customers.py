"""Publish a run date's propensity and recommendations in one transaction.

Both tables' rows of the date are replaced together (re-running a date never duplicates
or half-writes), and every row of a customer who asked to be forgotten is deleted from
every date in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from forecasting.db import dialect_of, read_frame, render_sql
from forecasting.lifecycle.publish import TableWrite, publish_in_one_transaction
from forecasting.publishing.publish import ensure_forecast_tables

__all__ = ["publish_customers", "read_customer_tables"]

log = logging.getLogger(__name__)


def _check(propensity: pd.DataFrame, recommendations: pd.DataFrame) -> None:
    p = propensity["probability"].to_numpy(float)
    if len(p) and (not np.isfinite(p).all() or p.min() < 0 or p.max() > 1):
        raise ValueError("propensity probabilities must be finite and within [0, 1]")
    if propensity["customer"].duplicated().any():
        raise ValueError("a customer appears twice in the propensity scores")
    if recommendations[["customer", "rank"]].duplicated().any():
        raise ValueError("a customer has two recommendations of the same rank")
    if recommendations[["customer", "sku"]].duplicated().any():
        raise ValueError("a product is recommended twice to the same customer")


def _rows(
    day: str, propensity: pd.DataFrame, recommendations: pd.DataFrame, versions: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Both tables' rows of the day (propensity with its decile)."""
    ranked = propensity["probability"].rank(method="first", ascending=False)
    decile = np.ceil(10 * ranked / max(len(propensity), 1)).clip(1, 10).astype(int)
    prop_rows = [
        {
            "run_date": day,
            "customer_pseudonym": c,
            "probability": float(p),
            "expected_orders": float(e),
            "decile": int(d),
            "model_version": versions["propensity"],
        }
        for c, p, e, d in zip(
            propensity["customer"],
            propensity["probability"],
            propensity["expected_orders"],
            decile,
            strict=True,
        )
    ]
    rec_rows = [
        {
            "run_date": day,
            "customer_pseudonym": c,
            "rank": int(r),
            "sku": s,
            "score": float(v),
            "model_version": versions["recommendations"],
        }
        for c, r, s, v in recommendations[["customer", "rank", "sku", "score"]].itertuples(
            index=False, name=None
        )
    ]
    return prop_rows, rec_rows


def publish_customers(
    engine: Engine,
    run_date: date,
    propensity: pd.DataFrame,
    recommendations: pd.DataFrame,
    versions: dict[str, str],
    forgotten: list[str],
) -> dict[str, int]:
    """Replace the date's rows of both tables and forget opted-out customers, atomically.

    Args:
        engine: Warehouse database.
        run_date: The run's day.
        propensity: ``customer, probability, expected_orders`` (pseudonyms).
        recommendations: ``customer, rank, sku, score``.
        versions: Model versions, keys ``propensity`` and ``recommendations``.
        forgotten: Pseudonyms of customers who opted out (deleted from every date).

    Returns:
        Rows written per table, and rows of forgotten customers deleted.
    """
    _check(propensity, recommendations)
    ensure_forecast_tables(engine)
    day = run_date.isoformat()
    prop_rows, rec_rows = _rows(day, propensity, recommendations, versions)
    key = {"run_date": day}
    writes = [
        TableWrite(f"customers/delete_customer_{t}", key, f"customers/insert_customer_{t}", rows)
        for t, rows in (("propensity", prop_rows), ("recommendations", rec_rows))
    ]
    removed = {"forgotten_rows": 0}
    forget = [
        sa.text(render_sql(f"customers/forget_customer_{t}", dialect_of(engine)))
        for t in ("propensity", "recommendations")
    ]

    def forget_customers(conn: Connection) -> None:
        removed["forgotten_rows"] = 0  # counted again when the transaction is retried
        for pseudonym in forgotten:
            for statement in forget:
                result = conn.execute(statement, {"customer_pseudonym": pseudonym})
                removed["forgotten_rows"] += int(result.rowcount or 0)

    publish_in_one_transaction(engine, writes, "publish customers", then=forget_customers)
    log.info(
        "published %d propensity and %d recommendation rows for %s; %d rows of forgotten "
        "customers deleted",
        len(prop_rows),
        len(rec_rows),
        run_date,
        removed["forgotten_rows"],
    )
    return {
        "customer_propensity": len(prop_rows),
        "customer_recommendations": len(rec_rows),
        **removed,
    }


def read_customer_tables(engine: Engine, run_date: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run date's published ``customer_propensity`` and ``customer_recommendations``."""
    ensure_forecast_tables(engine)
    params = {"run_date": run_date.isoformat()}
    return (
        read_frame(engine, "customers/select_customer_propensity", params),
        read_frame(engine, "customers/select_customer_recommendations", params),
    )
