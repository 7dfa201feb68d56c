"""Web events, their cleaning and their daily aggregates (pure functions on frames).

The extracted event (:data:`EVENT_COLUMNS`) is the source row of ``web_events`` after
extraction: ``session`` and ``customer`` are keyed pseudonyms (never the raw ids), and
``occurred_at`` is the shop's local time (naive), converted like orders' times. Three
aggregates are built from it, one shop day at a time, so memory stays bounded by a day:

* :func:`daily_behaviour` -- per SKU, location and day (:data:`DAILY_COLUMNS`): the demand
  models' past covariates and the nowcast's baseline;
* :func:`customer_events` -- per customer, SKU, day and event type
  (:data:`CUSTOMER_COLUMNS`): browsing features and session candidates of the customer
  models (identified customers only);
* :func:`search_sessions` -- per day and normalised query (:data:`SEARCH_COLUMNS`): the
  ``search_demand`` table.

:func:`clean_events` runs first: duplicate event ids (an event log is written at least
once) are counted and one is kept; sessions with more than ``bot_events`` events in a day
are counted and dropped (crawlers and scripts, not shoppers).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from forecasting.behaviour.search import QueryMatcher, normalise_query

__all__ = [
    "BOT_EVENTS_PER_DAY",
    "CUSTOMER_COLUMNS",
    "DAILY_COLUMNS",
    "DAILY_COUNTS",
    "EVENT_COLUMNS",
    "EVENT_TYPES",
    "MAX_QUERY_MATCHES",
    "SEARCH_COLUMNS",
    "EventCleaning",
    "clean_events",
    "customer_events",
    "daily_behaviour",
    "empty_customer_events",
    "empty_daily",
    "empty_events",
    "empty_searches",
    "search_sessions",
]

#: The event types of ``web_events.event_type`` (validation refuses any other).
EVENT_TYPES = ("view", "cart_add", "cart_remove", "search", "wishlist")
#: Columns of an extracted event, in order (see module docstring).
EVENT_COLUMNS = (
    "event_id",
    "occurred_at",
    "session",
    "customer",
    "event_type",
    "sku",
    "location_id",
    "query",
)
#: Count columns of :data:`DAILY_COLUMNS` (int64).
DAILY_COUNTS = (
    "views",
    "sessions",
    "cart_adds",
    "cart_removes",
    "wishlist_adds",
    "searches",
)
#: Columns of :func:`daily_behaviour`: one row per SKU, location and day with any event.
DAILY_COLUMNS = ("sku", "location_id", "ds", *DAILY_COUNTS)
#: Columns of :func:`customer_events`.
CUSTOMER_COLUMNS = ("customer", "sku", "ds", "event_type", "events", "last_at")
#: Columns of :func:`search_sessions`.
SEARCH_COLUMNS = ("ds", "query", "searches", "sessions", "converted_sessions")
#: A session with more events than this in one day is a bot (dropped, counted).
BOT_EVENTS_PER_DAY = 200
#: A query matching more products than this is too broad to count as a search for each.
MAX_QUERY_MATCHES = 50

_ITEM_EVENTS = {
    "view": "views",
    "cart_add": "cart_adds",
    "cart_remove": "cart_removes",
    "wishlist": "wishlist_adds",
}


@dataclass(frozen=True)
class EventCleaning:
    """What :func:`clean_events` removed.

    Attributes:
        rows: Events before cleaning.
        duplicate_events: Repeated event ids (all but one of each dropped).
        bot_sessions: Session-days over the bot threshold.
        bot_events: Their events (dropped).
    """

    rows: int = 0
    duplicate_events: int = 0
    bot_sessions: int = 0
    bot_events: int = 0

    def __add__(self, other: EventCleaning) -> EventCleaning:
        return EventCleaning(
            *(a + b for a, b in zip(asdict(self).values(), asdict(other).values(), strict=True))
        )

    def to_dict(self) -> dict[str, int]:
        """JSON-ready form."""
        return asdict(self)


def empty_events() -> pd.DataFrame:
    """An extracted-events frame without rows (:data:`EVENT_COLUMNS`)."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_COLUMNS})
    frame["occurred_at"] = pd.Series(dtype="datetime64[ns]")
    return frame


def empty_daily() -> pd.DataFrame:
    """A daily-behaviour frame without rows (:data:`DAILY_COLUMNS`)."""
    frame = pd.DataFrame(
        {
            "sku": pd.Series(dtype=object),
            "location_id": pd.Series(dtype=object),
            "ds": pd.Series(dtype="datetime64[ns]"),
        }
    )
    for col in DAILY_COUNTS:
        frame[col] = pd.Series(dtype="int64")
    return frame


def empty_customer_events() -> pd.DataFrame:
    """A customer-events frame without rows (:data:`CUSTOMER_COLUMNS`)."""
    return pd.DataFrame(
        {
            "customer": pd.Series(dtype=object),
            "sku": pd.Series(dtype=object),
            "ds": pd.Series(dtype="datetime64[ns]"),
            "event_type": pd.Series(dtype=object),
            "events": pd.Series(dtype="int64"),
            "last_at": pd.Series(dtype="datetime64[ns]"),
        }
    )


def empty_searches() -> pd.DataFrame:
    """A searches frame without rows (:data:`SEARCH_COLUMNS`)."""
    return pd.DataFrame(
        {
            "ds": pd.Series(dtype="datetime64[ns]"),
            "query": pd.Series(dtype=object),
            "searches": pd.Series(dtype="int64"),
            "sessions": pd.Series(dtype="int64"),
            "converted_sessions": pd.Series(dtype="int64"),
        }
    )


def _days(events: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(events["occurred_at"]).dt.normalize().astype("datetime64[ns]")


def clean_events(
    events: pd.DataFrame, bot_events: int = BOT_EVENTS_PER_DAY
) -> tuple[pd.DataFrame, EventCleaning]:
    """Drop repeated event ids (one kept) and bot sessions (see module docstring).

    Vectorised over integer codes (a day of a big shop is hundreds of thousands of events):
    no Python object per row, and no sort.

    Args:
        events: Extracted events (:data:`EVENT_COLUMNS`).
        bot_events: Events a session may have in one day before it counts as a bot.

    Returns:
        The cleaned events (same columns, in the order given) and the counts.
    """
    rows = len(events)
    if rows == 0:
        return events.loc[:, list(EVENT_COLUMNS)], EventCleaning()
    repeated = events["event_id"].duplicated().to_numpy()
    unique = events.loc[~repeated] if repeated.any() else events
    days = pd.to_datetime(unique["occurred_at"]).to_numpy().astype("datetime64[D]")
    day_codes, day_values = pd.factorize(days)
    session_codes, _ = pd.factorize(unique["session"], use_na_sentinel=False)
    key = session_codes.astype(np.int64) * max(len(day_values), 1) + day_codes
    per_session = np.bincount(key)
    bots = per_session[key] > bot_events
    clean = unique.loc[~bots] if bots.any() else unique
    return clean.loc[:, list(EVENT_COLUMNS)].reset_index(drop=True), EventCleaning(
        rows=rows,
        duplicate_events=int(repeated.sum()),
        bot_sessions=int(np.count_nonzero(per_session > bot_events)),
        bot_events=int(bots.sum()),
    )


def daily_behaviour(events: pd.DataFrame, matcher: QueryMatcher | None = None) -> pd.DataFrame:
    """Per SKU, location and day: views, sessions, cart adds and removes, wishlist adds,
    and searches whose query matched the SKU.

    ``sessions`` counts distinct sessions with any view, cart or wishlist event on the SKU.
    ``searches`` needs ``matcher``: each search counts once for every product its query
    matches, unless the query matches more than :data:`MAX_QUERY_MATCHES` (too broad to
    say anything about one product). Without ``matcher`` it is zero.

    Args:
        events: Cleaned events (:func:`clean_events`).
        matcher: The catalogue's query matcher.

    Returns:
        :data:`DAILY_COLUMNS`, one row per SKU, location and day with any event, sorted.
    """
    if events.empty:
        return empty_daily()
    ds = _days(events)
    items = events.loc[events["sku"].notna() & events["event_type"].isin(list(_ITEM_EVENTS))]
    keys = ["sku", "location_id", "ds"]
    frames = []
    if not items.empty:
        frames.append(_item_counts(items, ds.loc[items.index]))
    searches = events.loc[events["event_type"] == "search"]
    if matcher is not None and not searches.empty:
        per_query = (
            searches.assign(ds=ds.loc[searches.index], query=searches["query"].map(normalise_query))
            .groupby(["location_id", "ds", "query"], sort=False)
            .size()
            .rename("searches")
            .reset_index()
        )
        rows = []
        for location, day, query, n in per_query.itertuples(index=False, name=None):
            hits = matcher.match(query) if query else np.empty(0, dtype=np.int64)
            if 0 < len(hits) <= MAX_QUERY_MATCHES:
                rows.append(
                    pd.DataFrame(
                        {
                            "sku": matcher.skus[hits],
                            "location_id": location,
                            "ds": day,
                            "searches": n,
                        }
                    )
                )
        if rows:
            matched = pd.concat(rows, ignore_index=True).groupby(keys, sort=False)["searches"].sum()
            frames.append(matched.reset_index())
    if not frames:
        return empty_daily()
    out = frames[0]
    for frame in frames[1:]:
        out = out.merge(frame, on=keys, how="outer")
    for col in DAILY_COUNTS:
        out[col] = out[col].fillna(0).astype("int64") if col in out.columns else 0
    out["sku"] = out["sku"].astype(str)
    out["location_id"] = out["location_id"].astype(str)
    out["ds"] = pd.to_datetime(out["ds"]).astype("datetime64[ns]")
    out = out.loc[:, list(DAILY_COLUMNS)].astype({c: "int64" for c in DAILY_COUNTS})
    return out.sort_values(keys, ignore_index=True)


def _item_counts(items: pd.DataFrame, ds: pd.Series) -> pd.DataFrame:
    """Counts per SKU, location and day by event kind, and distinct sessions, computed on
    integer codes (a groupby over object keys costs seconds on a big shop's day)."""
    sku_codes, sku_values = pd.factorize(items["sku"])
    loc_codes, loc_values = pd.factorize(items["location_id"])
    day_codes, day_values = pd.factorize(ds)
    kinds = list(_ITEM_EVENTS)
    kind_codes = pd.Categorical(items["event_type"], categories=kinds).codes.astype(np.int64)
    n_loc, n_day = len(loc_values), len(day_values)
    key = (sku_codes.astype(np.int64) * n_loc + loc_codes) * n_day + day_codes
    inverse, uniq = pd.factorize(key)
    counts = np.bincount(inverse * len(kinds) + kind_codes, minlength=len(uniq) * len(kinds))
    counts = counts.reshape(len(uniq), len(kinds))
    session_codes, sessions = pd.factorize(items["session"], use_na_sentinel=False)
    pairs = pd.unique(inverse.astype(np.int64) * max(len(sessions), 1) + session_codes)
    distinct = np.bincount(pairs // max(len(sessions), 1), minlength=len(uniq))
    out = pd.DataFrame(
        {
            "sku": np.asarray(sku_values, dtype=object)[uniq // (n_loc * n_day)],
            "location_id": np.asarray(loc_values, dtype=object)[(uniq // n_day) % n_loc],
            "ds": pd.DatetimeIndex(day_values)[uniq % n_day],
        }
    )
    for i, kind in enumerate(kinds):
        out[_ITEM_EVENTS[kind]] = counts[:, i]
    out["sessions"] = distinct
    return out


def customer_events(events: pd.DataFrame) -> pd.DataFrame:
    """Per identified customer, SKU, day and event type: how many and the last time.

    Anonymous events (no ``customer``) and searches are left out.

    Returns:
        :data:`CUSTOMER_COLUMNS`, sorted by customer, day, SKU and event type.
    """
    known = events.loc[
        events["customer"].notna()
        & events["sku"].notna()
        & events["event_type"].isin(list(_ITEM_EVENTS))
    ]
    if known.empty:
        return empty_customer_events()
    known = known.assign(ds=_days(known))
    out = (
        known.groupby(["customer", "sku", "ds", "event_type"], sort=False)
        .agg(events=("event_id", "size"), last_at=("occurred_at", "max"))
        .reset_index()
    )
    out["events"] = out["events"].astype("int64")
    out["last_at"] = pd.to_datetime(out["last_at"]).astype("datetime64[ns]")
    out = out.astype({"customer": object, "sku": object, "event_type": object})
    return out.loc[:, list(CUSTOMER_COLUMNS)].sort_values(
        ["customer", "ds", "sku", "event_type"], ignore_index=True
    )


def search_sessions(events: pd.DataFrame) -> pd.DataFrame:
    """Per day and normalised query: searches, searching sessions, and sessions that added
    anything to a cart after their first search for it that day (orders carry no session,
    so a cart add is the nearest sign that the search led to a purchase).

    Returns:
        :data:`SEARCH_COLUMNS`, sorted by day and query; blank queries left out.
    """
    searches = events.loc[events["event_type"] == "search"]
    if searches.empty:
        return empty_searches()
    searches = searches.assign(ds=_days(searches), query=searches["query"].map(normalise_query))
    searches = searches.loc[searches["query"] != ""]
    if searches.empty:
        return empty_searches()
    first = (
        searches.groupby(["ds", "query", "session"], sort=False)
        .agg(n=("event_id", "size"), first_at=("occurred_at", "min"))
        .reset_index()
    )
    carts = events.loc[events["event_type"] == "cart_add"]
    if not carts.empty:
        carts = carts.assign(ds=_days(carts))
        last_cart = carts.groupby(["ds", "session"], sort=False)["occurred_at"].max()
        first = first.join(last_cart.rename("last_cart"), on=["ds", "session"])
        first["converted"] = first["last_cart"].notna() & (first["last_cart"] > first["first_at"])
    else:
        first["converted"] = False
    out = (
        first.groupby(["ds", "query"], sort=False)
        .agg(
            searches=("n", "sum"),
            sessions=("session", "size"),
            converted_sessions=("converted", "sum"),
        )
        .reset_index()
    )
    out = out.astype({"searches": "int64", "sessions": "int64", "converted_sessions": "int64"})
    out["ds"] = pd.to_datetime(out["ds"]).astype("datetime64[ns]")
    return out.loc[:, list(SEARCH_COLUMNS)].sort_values(["ds", "query"], ignore_index=True)
