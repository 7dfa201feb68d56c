"""A tiny hand-built shop with a few web events (the behaviour tests' source)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from forecasting.sources.shop import TABLE_COLUMNS, ShopData

#: The shop's last day with events (the run's day in the tests).
LAST_DAY = date(2024, 6, 30)
SKUS = ("SKU-1", "SKU-2", "SKU-3")
NAMES = ("red wool scarf", "blue cotton shirt", "scented candle")
#: Raw ids that must never reach storage.
RAW_IDS = ("sess-alpha", "sess-bravo", "sess-charlie", "cust-keep", "cust-gone")


def event(
    event_id: str,
    at: str,
    session: str,
    customer: str | None,
    kind: str,
    sku: str | None,
    query: str | None = None,
) -> dict[str, object]:
    """One ``web_events`` row (location ``L1``)."""
    return {
        "event_id": event_id,
        "occurred_at": pd.Timestamp(at),
        "session_id": session,
        "customer_id": customer,
        "event_type": kind,
        "sku": sku,
        "location_id": "L1",
        "query": query,
    }


def base_events() -> list[dict[str, object]]:
    """Two days of events: views, a cart add after a search, an opted-out customer's
    events, and a repeated event id."""
    return [
        event("e1", "2024-06-29 10:00:00", "sess-alpha", "cust-keep", "view", "SKU-1"),
        event("e2", "2024-06-29 10:01:00", "sess-alpha", "cust-keep", "view", "SKU-1"),
        event("e3", "2024-06-29 11:00:00", "sess-bravo", None, "view", "SKU-1"),
        event("e4", "2024-06-29 12:00:00", "sess-charlie", "cust-gone", "view", "SKU-2"),
        event("e5", "2024-06-30 09:00:00", "sess-alpha", "cust-keep", "search", None, "Wool Scarf"),
        event("e6", "2024-06-30 09:02:00", "sess-alpha", "cust-keep", "cart_add", "SKU-1"),
        event("e6", "2024-06-30 09:02:00", "sess-alpha", "cust-keep", "cart_add", "SKU-1"),
        event("e7", "2024-06-30 09:05:00", "sess-bravo", None, "search", None, "unicorn lamp"),
        event("e8", "2024-06-30 13:00:00", "sess-charlie", "cust-gone", "cart_add", "SKU-2"),
        event("e9", "2024-06-30 14:00:00", "sess-bravo", None, "wishlist", "SKU-3"),
    ]


def event_shop(events: list[dict[str, object]] | None = None, days: int = 14) -> ShopData:
    """Three products, one location, a sale a day, ``events`` (default :func:`base_events`)
    and ``cust-gone`` opted out."""
    first = LAST_DAY - timedelta(days=days - 1)
    products = pd.DataFrame(
        {
            "sku": list(SKUS),
            "name": list(NAMES),
            "description": ["", "", ""],
            "category": ["clothing", "clothing", "home"],
            "list_price": [10.0, 20.0, 5.0],
            "launched_on": pd.to_datetime(["2024-01-01"] * 3),
        }
    )
    stamps = [pd.Timestamp(first + timedelta(days=i)) + pd.Timedelta(hours=12) for i in range(days)]
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(days)],
            "customer_id": "cust-keep",
            "location_id": "L1",
            "ordered_at": stamps,
            "status": "completed",
        }
    )
    lines = pd.DataFrame(
        {
            "order_id": orders["order_id"],
            "line_no": 1,
            "sku": [SKUS[i % 3] for i in range(days)],
            "quantity": 1,
            "unit_price": 10.0,
        }
    )
    empty = {
        t: pd.DataFrame(columns=list(TABLE_COLUMNS[t])) for t in ("promotions", "calendar_events")
    }
    return ShopData(
        products=products,
        locations=pd.DataFrame({"location_id": ["L1"], "name": ["web"], "kind": ["online"]}),
        orders=orders,
        order_lines=lines,
        customer_optouts=pd.DataFrame(
            {"customer_id": ["cust-gone"], "opted_out_on": pd.to_datetime(["2024-01-01"])}
        ),
        web_events=pd.DataFrame(
            events if events is not None else base_events(),
            columns=list(TABLE_COLUMNS["web_events"]),
        ),
        **empty,
    )
