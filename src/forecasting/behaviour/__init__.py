"""What shoppers do before they buy: the website's event log (``web_events``).

* :mod:`~forecasting.behaviour.events` -- the event types, the columns of every frame below
  and the pure functions from raw (pseudonymised) events to daily aggregates: per SKU and
  location (demand covariates), per customer (browsing features, session candidates) and
  per search query (``search_demand``).
* :mod:`~forecasting.behaviour.search` -- query normalisation and matching queries to the
  catalogue's text.

An event log is optional: without the table or its rows, nothing downstream changes.
"""

from forecasting.behaviour.events import (
    CUSTOMER_COLUMNS,
    DAILY_COLUMNS,
    EVENT_COLUMNS,
    EVENT_TYPES,
    SEARCH_COLUMNS,
    EventCleaning,
    clean_events,
    customer_events,
    daily_behaviour,
    empty_customer_events,
    empty_daily,
    empty_events,
    empty_searches,
    search_sessions,
)
from forecasting.behaviour.search import QueryMatcher, normalise_query

__all__ = [
    "CUSTOMER_COLUMNS",
    "DAILY_COLUMNS",
    "EVENT_COLUMNS",
    "EVENT_TYPES",
    "SEARCH_COLUMNS",
    "EventCleaning",
    "QueryMatcher",
    "clean_events",
    "customer_events",
    "daily_behaviour",
    "empty_customer_events",
    "empty_daily",
    "empty_events",
    "empty_searches",
    "normalise_query",
    "search_sessions",
]
