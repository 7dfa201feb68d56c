"""Publish ``search_demand``: what shoppers searched for, per day and normalised query.

For merchandisers: searches, searching sessions, how many catalogue products the query
matches (:class:`~forecasting.behaviour.search.QueryMatcher` over the run's catalogue
snapshot) and how many searching sessions went on to add something to a cart. A query
that many search for and that matches nothing, or converts nobody, is unmet demand.

The rows come from the event store's ``searches`` dataset
(:meth:`~forecasting.behaviour.store.EventStore.read_searches`). A run replaces the search
days its event sync read from the source (typically the last ``lookback_days + 1``; every
kept day on a first sync), all in one transaction, stamped with the run's date: re-running
a date gives the same rows, and readers never see a half-written day.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd
from sqlalchemy.engine import Engine

from forecasting.behaviour.search import QueryMatcher
from forecasting.db import read_frame
from forecasting.lifecycle.publish import TableWrite, publish_in_one_transaction

__all__ = [
    "SEARCH_DEMAND_COLUMNS",
    "day_ranges",
    "publish_search_demand",
    "read_search_demand",
    "search_demand_rows",
]

log = logging.getLogger(__name__)

#: Columns of ``search_demand``, in order.
SEARCH_DEMAND_COLUMNS = (
    "search_date",
    "query",
    "searches",
    "sessions",
    "matching_products",
    "converted_sessions",
    "run_date",
)


def search_demand_rows(
    searches: pd.DataFrame, matcher: QueryMatcher, run_date: date
) -> pd.DataFrame:
    """``search_demand`` rows of the event store's searches.

    Args:
        searches: :data:`~forecasting.behaviour.events.SEARCH_COLUMNS`.
        matcher: The run's catalogue matcher.
        run_date: The run writing the rows.

    Returns:
        :data:`SEARCH_DEMAND_COLUMNS`, sorted by day and query.
    """
    rows = pd.DataFrame(
        {
            "search_date": pd.to_datetime(searches["ds"]).dt.date,
            "query": searches["query"].astype(str),
            "searches": searches["searches"].astype("int64"),
            "sessions": searches["sessions"].astype("int64"),
            "matching_products": matcher.count(searches["query"].astype(str)),
            "converted_sessions": searches["converted_sessions"].astype("int64"),
        }
    )
    rows["run_date"] = run_date
    return rows.sort_values(["search_date", "query"], ignore_index=True)


def day_ranges(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive runs of ``days`` as ``(first, last)`` pairs, oldest first."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] + timedelta(days=1) == day:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def publish_search_demand(
    engine: Engine,
    searches: pd.DataFrame,
    days: Sequence[date],
    catalogue: pd.DataFrame,
    run_date: date,
) -> int:
    """Replace the ``search_demand`` rows of ``days`` in one transaction.

    Args:
        engine: Warehouse database.
        searches: The event store's searches of those days (other days' rows are ignored).
        days: The search days to replace (a day without searches is emptied).
        catalogue: The run's products (``sku`` and their text).
        run_date: The run.

    Returns:
        Rows written.
    """
    from forecasting.publishing.publish import ensure_forecast_tables

    if not days:
        return 0
    ensure_forecast_tables(engine)
    rows = search_demand_rows(searches, QueryMatcher(catalogue), run_date)
    writes = []
    for first, last in day_ranges(days):
        part = rows.loc[(rows["search_date"] >= first) & (rows["search_date"] <= last)]
        writes.append(
            TableWrite(
                "publish/delete_search_demand",
                {"first_day": first.isoformat(), "last_day": last.isoformat()},
                "publish/insert_search_demand",
                part.reset_index(drop=True),
            )
        )
    publish_in_one_transaction(engine, writes, "publish search_demand")
    written = sum(len(w.rows) for w in writes if w.rows is not None)
    log.info("published %d search_demand rows for %d search days", written, len(set(days)))
    return written


def read_search_demand(engine: Engine, first: date, last: date) -> pd.DataFrame:
    """``search_demand`` rows of search days ``first`` .. ``last`` (:data:`SEARCH_DEMAND_COLUMNS`)."""
    return read_frame(
        engine,
        "publish/select_search_demand",
        {"first_day": first.isoformat(), "last_day": last.isoformat()},
    )
