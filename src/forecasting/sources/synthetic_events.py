"""The synthetic shop's web event log: views, cart adds and removes, wishlist adds and
searches, grouped into sessions, with bots and duplicates (``web_events``).

The log follows the shop's demand, so behaviour features have something true to find:

* **Surges.** Each SKU gets a few episodes of raised interest (:func:`surge_interest`): a
  multiplier ``m(t)`` that views follow on day ``t`` and sales follow on day
  ``t + lag_days``. A view surge therefore precedes the sales surge; orders alone cannot
  anticipate it. The surges are part of the shop's demand whether or not the log is
  written (:func:`forecasting.sources.synthetic.generate_shop` applies them either way).
* **Funnel.** Views per SKU, location and day are Poisson around
  ``views_per_purchase`` x expected demand x ``m(t)`` x gamma noise, scaled so that the shop
  has about ``views_per_purchase`` views per order line overall; a share of views becomes
  cart adds, of those a share is removed again, a share of views becomes wishlist adds.
  Views are cut into sessions of a few events at one location, started at times that follow
  an intraday profile (quiet at night, busy in the evening). Sessions search: for a product
  of the session (a query that matches it) or, for a share, something the shop does not
  stock (:data:`UNMET_QUERIES`).
* **Customers.** A share of sessions belongs to customers who have orders (their ids from
  ``orders.customer_id``); every completed order of an identified customer is preceded by
  browsing sessions in the 0-14 days before (views of what they then buy, and a few other
  products) and a session on the order day that adds the bought products to the cart. Some
  customers browse more before an order than others; identified sessions that cart and do
  not buy are abandoned carts.
* **Noise in the log.** Bot sessions (hundreds of views in a day, no customer, no cart) make
  about ``bot_share`` of the views, and ``duplicate_share`` of events is written twice with
  the same ``event_id`` (an at-least-once log). :func:`forecasting.behaviour.events.
  clean_events` removes both.

Everything here draws from its own random streams: only the surges change the demand.
Generation is vectorised per day (:func:`iter_web_events` yields one day at a time, so a
large shop's log is written with memory bounded by a day).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from forecasting.behaviour.events import BOT_EVENTS_PER_DAY
from forecasting.sources.shop import TABLE_COLUMNS
from forecasting.sources.synthetic_text import PRODUCT_TYPES

__all__ = [
    "UNMET_QUERIES",
    "FunnelConfig",
    "ShopActivity",
    "draw_web_events",
    "empty_web_events",
    "iter_web_events",
    "surge_interest",
]

#: Searches for things the shop does not stock: no product's name, description or
#: category contains all of a query's words (a unit test checks it against the catalogue).
UNMET_QUERIES = (
    "umbrella stand",
    "garden hose",
    "dog lead",
    "sourdough starter",
    "bike helmet",
    "snow boots",
    "hair dryer",
    "printer ink",
    "paddling pool",
    "fish tank",
    "ski goggles",
    "yoga block",
)
#: Share of sessions per hour of the day (shop time): quiet at night, busy in the evening.
_HOUR_WEIGHTS = np.array(
    [
        *(1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 3.5, 4.0, 4.2),  # 0-11 h
        *(4.5, 4.5, 4.2, 4.2, 4.5, 5.0, 6.0, 7.0, 7.5, 7.0, 5.0, 2.5),  # 12-23 h
    ]
)
_HOURS = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()
_DAY_SECONDS = 86_400
# Event type codes of the day arrays (index into _TYPE_NAMES).
_TYPE_NAMES = np.array(["view", "cart_add", "cart_remove", "search", "wishlist"], dtype=object)
_VIEW, _CART_ADD, _CART_REMOVE, _SEARCH, _WISHLIST = range(5)
# Bot sessions: views each (over the cleaning threshold) and seconds between them.
_BOT_VIEWS = (BOT_EVENTS_PER_DAY + 50, BOT_EVENTS_PER_DAY + 400)
_BOT_GAP = (1, 8)
# Customers' browsing before an order: share of customers who browse more, and the extra
# browsing sessions per order (Poisson means) of the others and of them; other products
# viewed per browsing session.
_EAGER_SHARE = 0.3
_EXTRA_SESSIONS = (0.3, 2.0)
_OTHER_VIEWS = 2.0
_BROWSE_DAYS = 14
# Customers browse while they buy: those with orders in this span before the event days.
_ACTIVE_DAYS = pd.Timedelta(days=90)


@dataclass(frozen=True)
class FunnelConfig:
    """How shoppers behave on the synthetic shop's website (see the module docstring).

    Attributes:
        views_per_purchase: Views per order line, over the shop (each SKU's views follow
            its expected demand).
        cart_add_rate: Cart adds per view.
        cart_remove_rate: Share of cart adds removed again later in the session.
        wishlist_rate: Wishlist adds per view.
        search_rate: Searches per session (Poisson mean).
        unmet_search_share: Share of searches for things the shop does not stock
            (:data:`UNMET_QUERIES`).
        lag_days: Days a view surge precedes its sales surge.
        surge_rate: Surges per SKU per 365 days (Poisson); 0 for none.
        surge_days: Length of a surge in days.
        surge_size: Interest multiplier at a surge's peak (> 1).
        noise: Gamma shape of the day-to-day noise of views (larger: less noise).
        session_views: Mean views per shopper session (geometric).
        bot_share: Share of view events from bot sessions.
        anonymous_share: Share of shopper sessions without a customer id (sessions tied to
            a customer's orders are always identified).
        duplicate_share: Share of events written twice with the same ``event_id``.
        event_days: Events only for the last ``event_days`` days of the shop; ``None``: all.
    """

    views_per_purchase: float = 30.0
    cart_add_rate: float = 0.10
    cart_remove_rate: float = 0.3
    wishlist_rate: float = 0.02
    search_rate: float = 0.3
    unmet_search_share: float = 0.15
    lag_days: int = 3
    surge_rate: float = 2.0
    surge_days: int = 7
    surge_size: float = 3.0
    noise: float = 5.0
    session_views: float = 4.0
    bot_share: float = 0.05
    anonymous_share: float = 0.6
    duplicate_share: float = 0.002
    event_days: int | None = 120

    def __post_init__(self) -> None:
        problems = []
        shares = (
            "cart_add_rate",
            "cart_remove_rate",
            "wishlist_rate",
            "unmet_search_share",
            "anonymous_share",
            "duplicate_share",
        )
        for name in shares:
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0.0 <= self.bot_share < 1.0:
            problems.append(f"bot_share must be in [0, 1), got {self.bot_share}")
        for name in ("views_per_purchase", "search_rate", "surge_rate"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("noise", "session_views"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be > 0, got {getattr(self, name)}")
        if self.session_views < 1:
            problems.append(f"session_views must be >= 1, got {self.session_views}")
        if self.surge_size < 1:
            problems.append(f"surge_size must be >= 1, got {self.surge_size}")
        for name in ("lag_days", "surge_days"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < (0 if name == "lag_days" else 1):
                low = 0 if name == "lag_days" else 1
                problems.append(f"{name} must be an integer >= {low}, got {value!r}")
        if self.event_days is not None and (
            not isinstance(self.event_days, int | np.integer) or self.event_days < 1
        ):
            problems.append(f"event_days must be None or an integer >= 1, got {self.event_days!r}")
        if problems:
            raise ValueError("invalid FunnelConfig: " + "; ".join(problems))

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-ready form."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def surge_interest(n_skus: int, n_days: int, funnel: FunnelConfig, seed: int) -> np.ndarray:
    """Each SKU's latent interest multiplier ``m`` over ``lag_days`` days before the history
    and the history's days.

    Surges start at random (``surge_rate`` per 365 days per SKU), rise and fall over
    ``surge_days`` days (half a sine wave) to ``surge_size`` at the peak; overlapping surges
    add up. Outside surges ``m`` is 1.

    Args:
        n_skus: SKUs.
        n_days: Days of history.
        funnel: The funnel (its ``surge_*`` and ``lag_days``).
        seed: Seed of the surges' own random stream.

    Returns:
        ``(n_skus, n_days + lag_days)``: column ``j`` is day ``j - lag_days``. Sales on day
        ``t`` follow column ``t``, views on day ``t`` column ``t + lag_days`` (views lead).
    """
    rng = np.random.default_rng(seed)
    lag = funnel.lag_days
    span = n_days + lag
    interest = np.ones((n_skus, span))
    n_surges = rng.poisson(funnel.surge_rate * span / 365.0, n_skus)
    total = int(n_surges.sum())
    if total == 0 or funnel.surge_size <= 1.0:
        return interest
    sku = np.repeat(np.arange(n_skus), n_surges)
    start = rng.integers(-funnel.surge_days + 1, span, total)
    k = np.arange(funnel.surge_days)
    shape = np.sin(np.pi * (k + 0.5) / funnel.surge_days)
    day = start[:, None] + k[None, :]
    inside = (day >= 0) & (day < span)
    rise = np.broadcast_to((funnel.surge_size - 1.0) * shape, day.shape)
    np.add.at(
        interest,
        (np.broadcast_to(sku[:, None], day.shape)[inside], day[inside]),
        rise[inside],
    )
    return interest


@dataclass(frozen=True)
class ShopActivity:
    """What the event log follows: the shop's products, expected demand and orders.

    Attributes:
        skus: SKU per product row ``(S,)``.
        names: Product names ``(S,)`` (the searches' words).
        location_ids: ``(L,)``.
        dates: The event days ``(D,)``.
        expected: Expected demand ``(S, L, D)`` on the event days, without the surges.
        interest: The views' surge multiplier ``(S, D)`` (``m(t)``, see
            :func:`surge_interest`).
        orders: The shop's ``orders`` (any days: those on the event days are used).
        order_lines: The shop's ``order_lines``.
    """

    skus: np.ndarray
    names: np.ndarray
    location_ids: np.ndarray
    dates: pd.DatetimeIndex
    expected: np.ndarray
    interest: np.ndarray
    orders: pd.DataFrame
    order_lines: pd.DataFrame


def empty_web_events() -> pd.DataFrame:
    """A ``web_events`` frame without rows (:data:`TABLE_COLUMNS` ``["web_events"]``)."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in TABLE_COLUMNS["web_events"]})
    frame["occurred_at"] = pd.Series(dtype="datetime64[ns]")
    return frame


def draw_web_events(activity: ShopActivity, funnel: FunnelConfig, seed: int) -> pd.DataFrame:
    """The whole event log of :func:`iter_web_events` as one frame (small shops)."""
    days = [d for d in _iter_days(activity, funnel, seed) if d["event_id"].size]
    if not days:
        return empty_web_events()
    return _as_frame({c: np.concatenate([d[c] for d in days]) for c in days[0]})


def iter_web_events(
    activity: ShopActivity, funnel: FunnelConfig, seed: int
) -> Iterator[pd.DataFrame]:
    """The event log, one day at a time (see the module docstring).

    Args:
        activity: The shop's demand and orders on the event days.
        funnel: Rates, noise, bots and duplicates.
        seed: Seed of the events' own random stream.

    Yields:
        One frame per event day (columns of ``TABLE_COLUMNS["web_events"]``, sorted by
        time; duplicates follow their original), possibly empty. Event ids (``E...``) and
        session ids (``S...``) are unique over the whole log.
    """
    for day in _iter_days(activity, funnel, seed):
        yield _as_frame(day) if day["event_id"].size else empty_web_events()


def _as_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(columns, copy=False).loc[:, list(TABLE_COLUMNS["web_events"])]


def _iter_days(
    activity: ShopActivity, funnel: FunnelConfig, seed: int
) -> Iterator[dict[str, np.ndarray]]:
    """The columns of each day's events (see :func:`iter_web_events`)."""
    rng = np.random.default_rng(seed)
    a = activity
    _, n_locs, n_days = a.expected.shape
    customers, weights = _customer_weights(a.orders, a.dates[0])
    # Views per unit of expected demand: views_per_purchase per expected order line over the
    # shop (a line holds a day's units of one SKU at one location: one line a day at most).
    mean = a.expected * a.interest[:, None, :]
    lines = 1.0 - (4.0 / (4.0 + a.expected)) ** 4  # P(qty > 0) of the shop's NB(mean, 4)
    popular = a.expected.sum(axis=(1, 2))
    purchases = _purchase_sessions(rng, a, popular, funnel)
    # The views of customers' order sessions count towards views_per_purchase.
    tied = sum(int((p["type"] == _VIEW).sum()) for p in purchases.values())
    wanted = max(funnel.views_per_purchase * float(lines.sum()) - tied, 0.0)
    scale = wanted / max(float(mean.sum()), 1e-12)
    queries = _sku_queries(a.names)
    next_event = 0
    next_session = 0
    for t in range(n_days):
        day = _shopper_day(rng, scale * mean[:, :, t], funnel, customers, weights, queries)
        day = _concat(day, purchases.get(t))
        day = _concat(day, _bots(rng, day, a.expected[:, :, t].sum(axis=1), n_locs, funnel))
        columns, n_sessions = _columns(rng, day, a, t, next_event, next_session, funnel)
        next_event += int(day["sec"].size)
        next_session += n_sessions
        yield columns


def _customer_weights(
    orders: pd.DataFrame, first_day: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray]:
    """Customers who browse without an order in view, weighted by their orders from
    :data:`_ACTIVE_DAYS` before the event days on (customers who stopped buying stopped
    visiting too); all customers with orders if none ordered then."""
    ids = orders["customer_id"].dropna()
    recent = ids.loc[orders.loc[ids.index, "ordered_at"] >= first_day - _ACTIVE_DAYS]
    ids = recent if len(recent) else ids
    if ids.empty:
        return np.empty(0, dtype=object), np.empty(0)
    counts = ids.value_counts(sort=False).sort_index()
    return counts.index.to_numpy(dtype=object), (counts / counts.sum()).to_numpy()


def _sku_queries(names: np.ndarray) -> np.ndarray:
    """Three searches per product that match it: its type, the type's last word, and a
    word of its name before the type with the type."""
    types = sorted((t for ts in PRODUCT_TYPES.values() for t in ts), key=len, reverse=True)
    out = np.empty((len(names), 3), dtype=object)
    for i, name in enumerate(names):
        text = " ".join(str(name).lower().split())
        kind = next((t.lower() for t in types if t.lower() in text), None)
        words = [w for w in text.split() if w.isalpha() and w not in {"set", "of", "pack"}]
        kind = kind or " ".join(words[-2:]) or text
        first = next((w for w in words if w not in kind.split()), "")
        out[i] = (kind, kind.split()[-1], f"{first} {kind}".strip())
    return out


def _seconds_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Session start times (seconds after midnight) following the intraday profile."""
    hour = rng.choice(24, size=n, p=_HOURS)
    return hour * 3600 + rng.integers(0, 3600, n)


def _arrays(n: int = 0) -> dict[str, np.ndarray]:
    return {
        "sec": np.empty(n, dtype=np.int64),
        "sku": np.empty(n, dtype=np.int64),
        "loc": np.empty(n, dtype=np.int64),
        "session": np.empty(n, dtype=np.int64),
        "type": np.empty(n, dtype=np.int64),
        "customer": np.empty(n, dtype=object),
        "query": np.empty(n, dtype=object),
    }


def _concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """Day arrays of ``a`` then ``b``; ``b``'s sessions renumbered after ``a``'s."""
    if b is None or b["sec"].size == 0:
        return a
    offset = int(a["session"].max()) + 1 if a["session"].size else 0
    return {k: np.concatenate([a[k], b[k] + offset if k == "session" else b[k]]) for k in a}


def _shopper_day(
    rng: np.random.Generator,
    views_mean: np.ndarray,
    funnel: FunnelConfig,
    customers: np.ndarray,
    weights: np.ndarray,
    queries: np.ndarray,
) -> dict[str, np.ndarray]:
    """One day of shoppers' sessions: views (noisy, around ``views_mean`` per SKU and
    location), cart adds and removes, wishlist adds and searches."""
    n_locs = views_mean.shape[1]
    noise = rng.gamma(funnel.noise, 1.0 / funnel.noise, views_mean.shape)
    counts = rng.poisson(views_mean * noise)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    n = cell.size
    if n == 0:
        return _arrays()
    loc = cell % n_locs
    order = np.lexsort((rng.random(n), loc))
    sku, loc = cell[order] // n_locs, loc[order]
    first = rng.random(n) < 1.0 / funnel.session_views
    first[0] = True
    first[1:] |= loc[1:] != loc[:-1]
    session = np.cumsum(first) - 1
    n_sessions = int(session[-1]) + 1
    start = _seconds_of_day(rng, n_sessions)
    gaps = rng.exponential(75.0, n)
    gaps[first] = 0.0
    walk = np.cumsum(gaps)
    sec = start[session] + (walk - walk[first][session]).astype(np.int64) + 60
    identified = rng.random(n_sessions) >= funnel.anonymous_share
    who = np.full(n_sessions, None, dtype=object)
    if customers.size and identified.any():
        who[identified] = rng.choice(customers, size=int(identified.sum()), p=weights)
    carted = np.flatnonzero(rng.random(n) < funnel.cart_add_rate)
    cart_sec = sec[carted] + 5 + rng.exponential(60.0, carted.size).astype(np.int64)
    removed = rng.random(carted.size) < funnel.cart_remove_rate
    remove_sec = cart_sec[removed] + 5 + rng.exponential(900.0, int(removed.sum())).astype(np.int64)
    wished = np.flatnonzero(rng.random(n) < funnel.wishlist_rate)
    n_search = rng.poisson(funnel.search_rate, n_sessions)
    s_session = np.repeat(np.arange(n_sessions), n_search)
    s_first_view = np.flatnonzero(first)[s_session]
    unmet = rng.random(s_session.size) < funnel.unmet_search_share
    query = queries[sku[s_first_view], rng.integers(0, queries.shape[1], s_session.size)]
    query[unmet] = rng.choice(np.asarray(UNMET_QUERIES, dtype=object), int(unmet.sum()))
    search_sec = np.maximum(start[s_session] + rng.integers(0, 60, s_session.size), 0)
    parts = [
        (sec, sku, loc, session, _VIEW, None),
        (cart_sec, sku[carted], loc[carted], session[carted], _CART_ADD, None),
        (
            remove_sec,
            sku[carted][removed],
            loc[carted][removed],
            session[carted][removed],
            _CART_REMOVE,
            None,
        ),
        (sec[wished] + 20, sku[wished], loc[wished], session[wished], _WISHLIST, None),
        (search_sec, np.full(s_session.size, -1), loc[s_first_view], s_session, _SEARCH, query),
    ]
    out = {
        "sec": np.concatenate([p[0] for p in parts]),
        "sku": np.concatenate([p[1] for p in parts]),
        "loc": np.concatenate([p[2] for p in parts]),
        "session": np.concatenate([p[3] for p in parts]),
        "type": np.concatenate([np.full(len(p[0]), p[4]) for p in parts]),
    }
    out["customer"] = who[out["session"]]
    out["query"] = np.full(out["sec"].size, None, dtype=object)
    out["query"][out["type"] == _SEARCH] = query
    return out


def _purchase_sessions(
    rng: np.random.Generator, a: ShopActivity, popular: np.ndarray, funnel: FunnelConfig
) -> dict[int, dict[str, np.ndarray]]:
    """Identified customers' sessions tied to their orders on the event days, per day index.

    Each completed order with a customer gets a session on its day that views and then adds
    the bought products to the cart minutes before the order, and one or more browsing
    sessions 0-14 days before it (views of the bought products and a few others); a share
    of customers browses more before each order.
    """
    first_day, last_day = a.dates[0], a.dates[-1] + pd.Timedelta(days=1)
    orders = a.orders.loc[
        (a.orders["status"] == "completed")
        & a.orders["customer_id"].notna()
        & (a.orders["ordered_at"] >= first_day)
        & (a.orders["ordered_at"] < last_day)
    ]
    if orders.empty:
        return {}
    sku_pos = pd.Series(np.arange(len(a.skus)), index=a.skus)
    loc_pos = pd.Series(np.arange(len(a.location_ids)), index=a.location_ids)
    lines = a.order_lines.loc[:, ["order_id", "sku"]].merge(
        orders.loc[:, ["order_id", "customer_id", "location_id", "ordered_at"]], on="order_id"
    )
    lines = lines.loc[lines["sku"].isin(sku_pos.index)]
    _, order_ids = pd.factorize(orders["order_id"])
    n_orders = len(order_ids)
    o_day = ((orders["ordered_at"].dt.normalize() - first_day).dt.days).to_numpy()
    o_sec = (
        (orders["ordered_at"] - orders["ordered_at"].dt.normalize()).dt.total_seconds()
    ).to_numpy(dtype=np.int64)
    o_loc = loc_pos.loc[orders["location_id"]].to_numpy()
    o_customer = orders["customer_id"].to_numpy(dtype=object)
    cust_codes, cust_ids = pd.factorize(orders["customer_id"])
    eager = rng.random(len(cust_ids)) < _EAGER_SHARE
    line_order = pd.Index(order_ids).get_indexer(lines["order_id"])
    line_sku = sku_pos.loc[lines["sku"]].to_numpy()

    # The order day's cart session: a view and a cart add per bought product.
    cart_sec = np.maximum(o_sec[line_order] - rng.integers(60, 1200, line_order.size), 1)
    view_sec = np.maximum(cart_sec - rng.integers(10, 300, line_order.size), 0)
    # Browsing sessions before the order.
    n_browse = 1 + rng.poisson(np.where(eager[cust_codes], *_EXTRA_SESSIONS[::-1]))
    b_order = np.repeat(np.arange(n_orders), n_browse)
    back = np.minimum(rng.geometric(0.2, b_order.size) - 1, _BROWSE_DAYS)
    b_day = o_day[b_order] - back
    b_start = _seconds_of_day(rng, b_order.size)
    same_day = back == 0
    b_start[same_day] = np.maximum(
        o_sec[b_order[same_day]] - rng.integers(1800, 7200, int(same_day.sum())), 0
    )
    # Each browsing session views the order's products, then a few others.
    per_order = np.bincount(line_order, minlength=n_orders)
    bought_rows = np.repeat(np.arange(b_order.size), per_order[b_order])
    by_order = np.argsort(line_order, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(per_order)])
    within = np.arange(bought_rows.size) - np.repeat(
        np.concatenate([[0], np.cumsum(per_order[b_order])])[:-1], per_order[b_order]
    )
    bought_sku = line_sku[by_order[offsets[b_order[bought_rows]] + within]]
    n_other = rng.poisson(_OTHER_VIEWS, b_order.size)
    other_rows = np.repeat(np.arange(b_order.size), n_other)
    p = popular / popular.sum() if popular.sum() > 0 else None
    other_sku = rng.choice(len(a.skus), size=other_rows.size, p=p)
    b_rows = np.concatenate([bought_rows, other_rows])
    b_sku = np.concatenate([bought_sku, other_sku])
    b_sec = np.minimum(b_start[b_rows] + rng.integers(0, 900, b_rows.size), _DAY_SECONDS - 1)

    cart_session = np.arange(n_orders)
    browse_session = n_orders + np.arange(b_order.size)
    frame = {
        "day": np.concatenate([o_day[line_order], o_day[line_order], b_day[b_rows]]),
        "sec": np.concatenate([view_sec, cart_sec, b_sec]),
        "sku": np.concatenate([line_sku, line_sku, b_sku]),
        "loc": np.concatenate([o_loc[line_order], o_loc[line_order], o_loc[b_order[b_rows]]]),
        "session": np.concatenate(
            [cart_session[line_order], cart_session[line_order], browse_session[b_rows]]
        ),
        "type": np.concatenate(
            [
                np.full(line_order.size, _VIEW),
                np.full(line_order.size, _CART_ADD),
                np.full(b_rows.size, _VIEW),
            ]
        ),
        "customer": np.concatenate(
            [o_customer[line_order], o_customer[line_order], o_customer[b_order[b_rows]]]
        ),
    }
    frame["query"] = np.full(frame["sec"].size, None, dtype=object)
    keep = frame["day"] >= 0
    day = frame.pop("day")[keep]
    frame = {k: v[keep] for k, v in frame.items()}
    order = np.argsort(day, kind="stable")
    day = day[order]
    starts = np.flatnonzero(np.r_[True, np.diff(day) != 0]) if day.size else np.empty(0, int)
    by_day: dict[int, dict[str, np.ndarray]] = {}
    for lo, hi in zip(starts, np.r_[starts[1:], day.size], strict=True):
        part = {k: v[order[lo:hi]] for k, v in frame.items()}
        part["session"] = np.unique(part["session"], return_inverse=True)[1]
        by_day[int(day[lo])] = part
    return by_day


def _bots(
    rng: np.random.Generator,
    day: dict[str, np.ndarray],
    demand: np.ndarray,
    n_locs: int,
    funnel: FunnelConfig,
) -> dict[str, np.ndarray] | None:
    """Bot sessions making about ``bot_share`` of the day's views: hundreds of views each,
    seconds apart, of any launched product, no customer and no cart."""
    views = int((day["type"] == _VIEW).sum())
    launched = np.flatnonzero(demand > 0)
    expected = funnel.bot_share / (1.0 - funnel.bot_share) * views / np.mean(_BOT_VIEWS)
    n_bots = rng.poisson(expected) if launched.size else 0
    if n_bots == 0:
        return None
    size = rng.integers(_BOT_VIEWS[0], _BOT_VIEWS[1] + 1, n_bots)
    session = np.repeat(np.arange(n_bots), size)
    n = session.size
    span = size * _BOT_GAP[1]
    start = rng.integers(0, _DAY_SECONDS - span)
    gaps = rng.integers(_BOT_GAP[0], _BOT_GAP[1] + 1, n)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    walk = np.cumsum(gaps)
    offset = walk - walk[first][session]
    out = _arrays(n)
    out["sec"] = start[session] + offset
    out["sku"] = rng.choice(launched, n)
    out["loc"] = rng.integers(0, n_locs, n_bots)[session]
    out["session"] = session
    out["type"] = np.full(n, _VIEW)
    out["customer"] = np.full(n, None, dtype=object)
    out["query"] = np.full(n, None, dtype=object)
    return out


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` + zero-padded numbers (an object array of str)."""
    pattern = f"{prefix}{{:0{width}d}}"
    return np.array([pattern.format(n) for n in numbers.tolist()], dtype=object)


def _columns(
    rng: np.random.Generator,
    day: dict[str, np.ndarray],
    a: ShopActivity,
    t: int,
    next_event: int,
    next_session: int,
    funnel: FunnelConfig,
) -> tuple[dict[str, np.ndarray], int]:
    """The day's arrays as ``web_events`` columns with ids, plus duplicates; and the number
    of sessions used."""
    n = day["sec"].size
    sec = np.clip(day["sec"], 0, _DAY_SECONDS - 1)
    order = np.lexsort((rng.random(n), sec))
    # Session ids in a random order, so a session's number says nothing about its kind.
    sessions, local = np.unique(day["session"], return_inverse=True)
    relabel = rng.permutation(sessions.size)
    session_ids = _ids("S", next_session + relabel, 10)[local]
    # Index -1 (searches) picks the trailing None.
    sku_ids = np.concatenate([a.skus.astype(object), np.array([None], dtype=object)])
    start = np.datetime64(a.dates[t].to_datetime64(), "s")
    # Duplicates: a share of events written twice, next to the original.
    repeat = np.flatnonzero(rng.random(n) < funnel.duplicate_share)
    rows = order[np.sort(np.concatenate([np.arange(n), repeat]), kind="stable")]
    ids = _ids("E", next_event + np.arange(n), 11)
    ids = ids[np.sort(np.concatenate([np.arange(n), repeat]), kind="stable")]
    return {
        "event_id": ids,
        "occurred_at": (start + sec[rows].astype("timedelta64[s]")).astype("datetime64[ns]"),
        "session_id": session_ids[rows],
        "customer_id": day["customer"][rows],
        "event_type": _TYPE_NAMES[day["type"][rows]],
        "sku": sku_ids[day["sku"][rows]],
        "location_id": a.location_ids.astype(object)[day["loc"][rows]],
        "query": day["query"][rows],
    }, int(sessions.size)
