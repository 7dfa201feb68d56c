"""A seeded synthetic shop with realistic daily demand.

Demand per SKU x location x day is negative-binomial around a mean built from: a base
rate (with intermittent slow movers), a location factor, a category-specific weekly
profile, yearly seasonality, a trend, holidays and shopping days (stores close on
Christmas Day), promotions with uplift, and price elasticity (promotion discounts and a
permanent price change for some SKUs). Some SKUs launch mid-history, and a few are
planned launches: in the catalogue, launching within 21 days after the last order day,
without any orders yet (they must be forecast cold, from their text). Demand becomes order
lines grouped into orders from pseudonymous customers; a few extra orders are cancelled
and must not count as demand.

Products' names and descriptions follow their demand level, and a share of order lines
gets a customer review whose rating follows the product's quality (see
:mod:`forecasting.sources.synthetic_text`); neither changes the demand.

Each SKU has a few surges of interest (:func:`~forecasting.sources.synthetic_events.
surge_interest`): sales follow them ``lag_days`` after the website's views do. The web event
log (``web_events``: views, cart adds, searches, bots; see
:mod:`forecasting.sources.synthetic_events`) is drawn from its own random stream; the
surges are part of the demand whether or not it is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from forecasting.sources.holidays import holiday_events
from forecasting.sources.shop import ShopData
from forecasting.sources.synthetic_events import (
    FunnelConfig,
    ShopActivity,
    draw_web_events,
    empty_web_events,
    iter_web_events,
    surge_interest,
)
from forecasting.sources.synthetic_stock import STOCK_DAYS, draw_stock
from forecasting.sources.synthetic_text import draw_reviews, product_quality, product_texts

__all__ = ["FunnelConfig", "generate_shop", "generate_shop_streaming"]

_CATEGORIES = ("grocery", "home", "toys", "apparel", "electronics")
# Weekly profiles Monday..Sunday per category (mean 1).
_WEEKLY = {
    "grocery": (0.9, 0.85, 0.9, 0.95, 1.1, 1.35, 0.95),
    "home": (0.95, 0.9, 0.9, 0.95, 1.0, 1.25, 1.05),
    "toys": (0.8, 0.8, 0.85, 0.9, 1.05, 1.45, 1.15),
    "apparel": (0.85, 0.85, 0.9, 0.95, 1.1, 1.4, 0.95),
    "electronics": (1.0, 0.95, 0.95, 1.0, 1.05, 1.15, 0.9),
}
# Day of year of each category's yearly peak.
_PEAK_DAY = {"grocery": 350, "home": 120, "toys": 355, "apparel": 270, "electronics": 330}
_EVENT_UPLIFT = {"Black Friday": 2.5, "Cyber Monday": 1.8, "Christmas Eve": 1.5}


def generate_shop(
    n_skus: int = 30,
    n_locations: int = 3,
    days: int = 730,
    end_date: str | pd.Timestamp = "2024-06-30",
    seed: int = 7,
    country: str = "US",
    planned_launches: int | None = None,
    reviews: bool = True,
    events: bool = True,
    funnel: FunnelConfig | None = None,
) -> ShopData:
    """Generate a shop's tables with known demand patterns.

    Args:
        n_skus: Number of products with order history (``SKU-00001`` ...); planned
            launches come on top.
        n_locations: Number of locations; the first is the online channel, the rest stores.
        days: Days of order history ending at ``end_date``.
        end_date: Last day with orders.
        seed: Seed; the same arguments give the same tables.
        country: Holiday calendar, ``"US"`` or ``"GB"``.
        planned_launches: Products added after the ``n_skus`` (the next SKU numbers) that
            are planned launches: ``launched_on`` 1-21 days after ``end_date``, no orders,
            a name that near-duplicates a product the shop sells and a similar price.
            Default ``None``: ``n_skus // 10``, at most 3 (3 beside the demo's 30; none in
            shops under 10 products). Nothing else in the shop depends on it: every other
            table is the same with or without them.
        reviews: Write ``product_reviews`` (default): about 4% of completed order lines
            get a review 3-30 days later (up to ``end_date``). ``False`` leaves the table
            empty, as in a shop without reviews.
        events: Write ``web_events`` (default), for the last ``funnel.event_days`` days.
            ``False`` leaves the table empty; the demand (surges included) is the same.
        funnel: The website's funnel, surges, bots and duplicates (default
            :class:`~forecasting.sources.synthetic_events.FunnelConfig()`).

    Returns:
        The shop's tables. Promotions and events extend 120 days past ``end_date``
        (planned promotions and known holidays are available when forecasting).
    """
    funnel = FunnelConfig() if funnel is None else funnel
    shop, activity = _generate(
        n_skus, n_locations, days, end_date, seed, country, planned_launches, reviews, funnel
    )
    if not events:
        return shop
    return replace(shop, web_events=draw_web_events(activity, funnel, seed + 8))


def generate_shop_streaming(
    n_skus: int = 30,
    n_locations: int = 3,
    days: int = 730,
    end_date: str | pd.Timestamp = "2024-06-30",
    seed: int = 7,
    country: str = "US",
    planned_launches: int | None = None,
    reviews: bool = True,
    funnel: FunnelConfig | None = None,
) -> tuple[ShopData, Iterator[pd.DataFrame]]:
    """:func:`generate_shop` with the event log as an iterator of days (for large shops:
    memory bounded by a day).

    Returns:
        The shop without ``web_events`` and the days of ``web_events`` that
        ``generate_shop(..., events=True)`` would concatenate (same rows).
    """
    funnel = FunnelConfig() if funnel is None else funnel
    shop, activity = _generate(
        n_skus, n_locations, days, end_date, seed, country, planned_launches, reviews, funnel
    )
    return shop, iter_web_events(activity, funnel, seed + 8)


def _generate(
    n_skus: int,
    n_locations: int,
    days: int,
    end_date: str | pd.Timestamp,
    seed: int,
    country: str,
    planned_launches: int | None,
    reviews: bool,
    funnel: FunnelConfig,
) -> tuple[ShopData, ShopActivity]:
    """The shop without ``web_events``, and what its event log follows."""
    if n_skus < 1 or n_locations < 1 or days < 14:
        raise ValueError("need n_skus >= 1, n_locations >= 1 and days >= 14")
    n_planned = min(3, n_skus // 10) if planned_launches is None else planned_launches
    if n_planned < 0:
        raise ValueError(f"need planned_launches >= 0, got {n_planned}")
    # One random stream, drawn in a fixed order: products, locations, promotions,
    # demand, order times (customers and the order shuffles have their own seeds).
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(end_date).normalize()
    dates = pd.date_range(end - pd.Timedelta(days=days - 1), end, freq="D")
    products = _draw_products(rng, n_skus, len(dates))
    locations = _draw_locations(rng, n_locations)
    horizon_end = end + pd.Timedelta(days=120)
    events = holiday_events(dates[0], horizon_end, country)
    promotions = _draw_promotions(rng, products.skus, locations.ids, dates[0], horizon_end)

    mean_sku, price_path = _sku_mean(products, dates)
    event_mult, store_closed = _event_effects(events, dates)
    discount = _discounts(promotions, products.skus, locations.ids, dates)
    promo_uplift = (1.0 - discount) ** products.elasticity[:, None, None]
    mean = (
        mean_sku[:, None, :]
        * locations.factor[None, :, None]
        * event_mult[None, None, :]
        * promo_uplift
    )
    mean[:, locations.kind == "store", :] *= ~store_closed[None, None, :]
    # Surges of interest (own stream): views on day t follow column t + lag, sales column t.
    interest = surge_interest(n_skus, len(dates), funnel, seed + 9)
    expected = mean
    mean = mean * interest[:, None, : len(dates)]
    dispersion = 4.0
    lam = mean * rng.gamma(dispersion, 1.0 / dispersion, size=mean.shape)
    qty = rng.poisson(lam)

    lines, codes, uniques = _basket_lines(qty, price_path, discount, products.skus, seed)
    orders = _orders(rng, lines, codes, uniques, products, locations.ids, dates, seed)
    orders, lines = _with_cancelled(orders, lines, seed)
    order_lines = lines.loc[:, ["order_id", "line_no", "sku", "quantity", "unit_price"]]
    order_lines = order_lines.astype({"quantity": "int64", "line_no": "int64"})
    catalogue = _catalogue(
        products, _planned_launches(products, n_planned, len(dates), seed), dates, seed
    )
    shop = ShopData(
        catalogue,
        locations.frame(),
        orders,
        order_lines,
        promotions,
        events,
        web_events=empty_web_events(),
    )
    snapshots, purchase_orders, policy = draw_stock(
        products.skus,
        locations.ids,
        locations.kind,
        expected[:, :, -STOCK_DAYS:].mean(axis=2),
        end,
        seed + 10,
    )
    shop = replace(
        shop,
        inventory_snapshots=snapshots,
        purchase_orders=purchase_orders,
        replenishment_policy=policy,
    )
    if reviews:
        sold = order_lines.join(orders.set_index("order_id"), on="order_id")
        sold = sold.loc[sold["status"] == "completed", ["sku", "customer_id", "ordered_at"]]
        quality = pd.Series(product_quality(products.trend, seed + 4), index=products.skus)
        shop = replace(shop, product_reviews=draw_reviews(sold, quality, end, seed + 5))
    n_event_days = len(dates) if funnel.event_days is None else min(funnel.event_days, len(dates))
    window = slice(len(dates) - n_event_days, len(dates))
    lag = funnel.lag_days
    activity = ShopActivity(
        skus=products.skus,
        names=catalogue["name"].to_numpy()[:n_skus],
        location_ids=locations.ids,
        dates=dates[window],
        expected=expected[:, :, window],
        interest=interest[:, lag:][:, window],
        orders=orders,
        order_lines=order_lines,
    )
    return shop, activity


@dataclass(frozen=True)
class _Products:
    """The drawn products: one entry per SKU in each array."""

    skus: np.ndarray
    category: np.ndarray
    base: np.ndarray  # mean daily demand before the other effects
    price0: np.ndarray  # price before a permanent change
    list_price: np.ndarray  # price after it (``price0`` if none)
    change_idx: np.ndarray  # day index of the price change (``n_days``: none)
    elasticity: np.ndarray
    trend: np.ndarray  # growth per year
    amplitude: np.ndarray  # yearly seasonality
    launch_idx: np.ndarray  # day index of the launch (0: before the history; >= n_days: planned)

    def frame(
        self, dates: pd.DatetimeIndex, names: list[str], descriptions: list[str]
    ) -> pd.DataFrame:
        """The ``products`` table."""
        return pd.DataFrame(
            {
                "sku": self.skus,
                "name": names,
                "description": descriptions,
                "category": self.category,
                "list_price": self.list_price,
                "launched_on": dates[0] + pd.to_timedelta(self.launch_idx, unit="D"),
            }
        )


def _planned_launches(products: _Products, n_planned: int, n_days: int, seed: int) -> _Products:
    """``n_planned`` new products launching 1-21 days after the history, each a variant of
    a product the shop sells (its category, about its demand level and price).

    Drawn from their own random stream after the shop's demand: nothing else changes.
    """
    rng = np.random.default_rng(seed + 6)
    n = len(products.skus)
    like = rng.choice(n, size=n_planned, replace=n_planned > n)
    price = np.round(products.price0[like] * rng.uniform(0.9, 1.1, n_planned), 2)
    return _Products(
        skus=np.array([f"SKU-{i:05d}" for i in range(n + 1, n + n_planned + 1)]),
        category=products.category[like],
        base=products.base[like] * rng.uniform(0.8, 1.25, n_planned),
        price0=price,
        list_price=price,
        change_idx=np.full(n_planned, n_days),
        elasticity=products.elasticity[like],
        trend=products.trend[like],
        amplitude=products.amplitude[like],
        launch_idx=n_days + rng.integers(0, 21, n_planned),
    )


def _catalogue(
    products: _Products, planned: _Products, dates: pd.DatetimeIndex, seed: int
) -> pd.DataFrame:
    """The ``products`` table: the shop's products and its planned launches, with text."""
    both = _Products(
        **{
            f.name: np.concatenate([getattr(products, f.name), getattr(planned, f.name)])
            for f in fields(_Products)
        }
    )
    is_planned = np.arange(len(both.skus)) >= len(products.skus)
    names, descriptions = product_texts(both.category, both.base, is_planned, seed + 3)
    return both.frame(dates, names, descriptions)


def _draw_products(rng: np.random.Generator, n_skus: int, n_days: int) -> _Products:
    """Products with intermittent slow movers, launches and permanent price changes."""
    skus = np.array([f"SKU-{i:05d}" for i in range(1, n_skus + 1)])
    category = rng.choice(_CATEGORIES, size=n_skus)
    slow = rng.random(n_skus) < 0.2
    base = np.where(slow, rng.uniform(0.05, 0.4, n_skus), rng.lognormal(np.log(4.0), 0.8, n_skus))
    price0 = np.round(rng.lognormal(np.log(20.0), 0.6, n_skus), 2)
    elasticity = rng.uniform(-2.5, -0.8, n_skus)
    trend = rng.uniform(-0.15, 0.35, n_skus)
    amplitude = rng.uniform(0.05, 0.4, n_skus)
    launch_idx = np.where(rng.random(n_skus) < 0.15, rng.integers(0, int(n_days * 0.6), n_skus), 0)
    # Some SKUs change price for good halfway through.
    change_idx = np.where(
        rng.random(n_skus) < 0.3, rng.integers(n_days // 4, n_days, n_skus), n_days
    )
    change_factor = rng.choice([0.85, 0.9, 1.1, 1.15], size=n_skus)
    list_price = np.round(np.where(change_idx < n_days, price0 * change_factor, price0), 2)
    return _Products(
        skus=skus,
        category=category,
        base=base,
        price0=price0,
        list_price=list_price,
        change_idx=change_idx,
        elasticity=elasticity,
        trend=trend,
        amplitude=amplitude,
        launch_idx=launch_idx,
    )


@dataclass(frozen=True)
class _Locations:
    """The online channel first, then the stores; one entry per location in each array."""

    ids: np.ndarray
    kind: np.ndarray
    factor: np.ndarray  # demand multiplier

    def frame(self) -> pd.DataFrame:
        """The ``locations`` table."""
        return pd.DataFrame(
            {
                "location_id": self.ids,
                "name": [f"{k.title()} {i}" for i, k in enumerate(self.kind)],
                "kind": self.kind,
            }
        )


def _draw_locations(rng: np.random.Generator, n_locations: int) -> _Locations:
    """The online channel (busiest) and ``n_locations - 1`` stores of random size."""
    return _Locations(
        ids=np.array(["online"] + [f"store-{i:02d}" for i in range(1, n_locations)]),
        kind=np.array(["online"] + ["store"] * (n_locations - 1)),
        factor=np.concatenate([[1.5], rng.lognormal(0.0, 0.4, n_locations - 1)]),
    )


def _draw_promotions(
    rng: np.random.Generator,
    skus: np.ndarray,
    loc_ids: np.ndarray,
    first_day: pd.Timestamp,
    horizon_end: pd.Timestamp,
) -> pd.DataFrame:
    """Promotions of 5-14 days, about one per SKU every 75 days, shop-wide or one location."""
    promo_rows = []
    span = (horizon_end - first_day).days
    for sku in skus:
        for _ in range(rng.poisson(span / 75)):
            start = first_day + pd.Timedelta(days=int(rng.integers(0, span)))
            length = int(rng.integers(5, 15))
            loc = None if rng.random() < 0.6 else str(rng.choice(loc_ids))
            disc = float(rng.choice([10, 15, 20, 25, 30, 40]))
            promo_rows.append((sku, loc, start, start + pd.Timedelta(days=length - 1), disc))
    promotions = pd.DataFrame(
        promo_rows, columns=["sku", "location_id", "starts_on", "ends_on", "discount_pct"]
    )
    promotions.insert(0, "promotion_id", [f"P{i:06d}" for i in range(1, len(promotions) + 1)])
    return promotions


def _sku_mean(products: _Products, dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Mean demand per SKU and day before location, event and promotion effects.

    Returns:
        The mean and the price path (the list price of each SKU on each day), both
        ``(SKU, day)``.
    """
    p = products
    t = np.arange(len(dates))
    dow = dates.dayofweek.to_numpy()
    doy = dates.dayofyear.to_numpy()
    weekly = np.stack([np.asarray(_WEEKLY[c])[dow] for c in p.category])
    peak = np.array([_PEAK_DAY[c] for c in p.category])[:, None]
    yearly = 1.0 + p.amplitude[:, None] * np.cos(2 * np.pi * (doy[None, :] - peak) / 365.25)
    growth = (1.0 + p.trend[:, None]) ** (t[None, :] / 365.25)
    price_path = np.where(
        t[None, :] >= p.change_idx[:, None], p.list_price[:, None], p.price0[:, None]
    )
    price_effect = (price_path / p.price0[:, None]) ** p.elasticity[:, None]
    launched = t[None, :] >= p.launch_idx[:, None]
    return p.base[:, None] * weekly * yearly * growth * price_effect * launched, price_path


def _event_effects(events: pd.DataFrame, dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Each day's demand multiplier from events, and whether stores are closed."""
    event_mult = np.ones(len(dates))
    store_closed = np.zeros(len(dates), dtype=bool)
    date_pos = {d: i for i, d in enumerate(dates)}
    for d, name, kind in events.itertuples(index=False):
        i = date_pos.get(d)
        if i is None:
            continue
        if name == "Christmas Day":
            store_closed[i] = True
            event_mult[i] *= 0.5
        elif kind == "shopping":
            event_mult[i] *= _EVENT_UPLIFT.get(name, 1.2)
        else:
            event_mult[i] *= 0.8
    return event_mult, store_closed


def _discounts(
    promotions: pd.DataFrame, skus: np.ndarray, loc_ids: np.ndarray, dates: pd.DatetimeIndex
) -> np.ndarray:
    """The deepest promotion discount (a share) per SKU, location and day."""
    n_days = len(dates)
    discount = np.zeros((len(skus), len(loc_ids), n_days))
    sku_pos = {s: i for i, s in enumerate(skus)}
    loc_pos = {s: i for i, s in enumerate(loc_ids)}
    for _, sku, loc, start, stop, disc in promotions.itertuples(index=False):
        lo = max((start - dates[0]).days, 0)
        hi = min((stop - dates[0]).days, n_days - 1)
        if lo > hi:
            continue
        locs = slice(None) if loc is None else loc_pos[loc]
        current = discount[sku_pos[sku], locs, lo : hi + 1]
        discount[sku_pos[sku], locs, lo : hi + 1] = np.maximum(current, disc / 100.0)
    return discount


def _basket_lines(
    qty: np.ndarray, price_path: np.ndarray, discount: np.ndarray, skus: np.ndarray, seed: int
) -> tuple[pd.DataFrame, np.ndarray, pd.Index]:
    """Order lines of the demand, shuffled and grouped into orders of up to three lines.

    Returns:
        The lines (day ``d``, location ``l``, ``sku``, ``quantity``, ``unit_price``,
        ``order_id``, ``line_no``), each line's order code and the orders' ``(d, l,
        basket)`` keys in code order.
    """
    s_idx, l_idx, d_idx = np.nonzero(qty)
    unit_price = np.round(price_path[s_idx, d_idx] * (1.0 - discount[s_idx, l_idx, d_idx]), 2)
    lines = pd.DataFrame(
        {
            "d": d_idx,
            "l": l_idx,
            "sku": skus[s_idx],
            "quantity": qty[s_idx, l_idx, d_idx],
            "unit_price": unit_price,
        }
    )
    lines = lines.sample(frac=1.0, random_state=seed).sort_values(
        ["d", "l"], kind="stable", ignore_index=True
    )
    basket = lines.groupby(["d", "l"]).cumcount() // 3  # up to three lines per order
    order_key = pd.MultiIndex.from_arrays([lines["d"], lines["l"], basket])
    codes, uniques = pd.factorize(order_key)
    lines["order_id"] = [f"O{c + 1:08d}" for c in codes]
    lines["line_no"] = lines.groupby("order_id").cumcount() + 1
    return lines, codes, uniques


def _orders(
    rng: np.random.Generator,
    lines: pd.DataFrame,
    codes: np.ndarray,
    uniques: pd.Index,
    products: _Products,
    loc_ids: np.ndarray,
    dates: pd.DatetimeIndex,
    seed: int,
) -> pd.DataFrame:
    """The completed orders of :func:`_basket_lines`, with their customers and times."""
    n_skus = len(products.skus)
    n_orders = len(uniques)
    ord_d = np.array([u[0] for u in uniques])
    ord_l = np.array([u[1] for u in uniques])
    n_customers = max(50, 40 * n_skus)
    sku_index = pd.Series(np.arange(n_skus), index=products.skus)
    seconds = rng.integers(8 * 3600, 22 * 3600, n_orders)
    first_sku = lines.groupby(codes)["sku"].first().to_numpy()
    return pd.DataFrame(
        {
            "order_id": [f"O{c + 1:08d}" for c in range(n_orders)],
            "customer_id": _assign_customers(
                ord_d, products.category[sku_index[first_sku]], n_customers, len(dates), seed
            ),
            "location_id": loc_ids[ord_l],
            "ordered_at": dates[ord_d] + pd.to_timedelta(seconds, unit="s"),
            "status": "completed",
        }
    )


def _with_cancelled(
    orders: pd.DataFrame, lines: pd.DataFrame, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders and lines plus cancelled copies of about 3% of lines (not demand)."""
    cancelled = lines.sample(frac=0.03, random_state=seed + 1).reset_index(drop=True)
    if len(cancelled):
        c_ids = [f"X{c + 1:08d}" for c in range(len(cancelled))]
        c_orders = orders.set_index("order_id").loc[cancelled["order_id"]].reset_index(drop=True)
        c_orders.insert(0, "order_id", c_ids)
        c_orders["status"] = "cancelled"
        cancelled = cancelled.assign(order_id=c_ids, line_no=1)
        orders = pd.concat([orders, c_orders], ignore_index=True)
        lines = pd.concat([lines, cancelled], ignore_index=True)
    return orders, lines


def _assign_customers(
    order_day: np.ndarray, order_category: np.ndarray, n_customers: int, n_days: int, seed: int
) -> list[str]:
    """Customers for orders, like a real shop's: a few buy often and most rarely (gamma
    activity), customers join over time and about half stop buying at some point, and each
    prefers one category. The customer models have something to find; demand is unchanged
    (its own random stream is not touched).
    """
    rng = np.random.default_rng(seed + 2)
    activity = rng.gamma(0.6, 1.0, n_customers)
    # Customers join over the history; about half leave at some point.
    joins = rng.integers(0, max(1, int(n_days * 0.7)), n_customers)
    joins[: max(1, n_customers // 5)] = 0  # a fifth were customers before the history
    churns = np.where(
        rng.random(n_customers) < 0.5,
        joins + rng.integers(60, max(61, n_days), n_customers),
        n_days + 1,
    )
    home = rng.choice(np.asarray(_CATEGORIES), n_customers)
    ids = np.array([f"C{c:06d}" for c in range(1, n_customers + 1)])
    out = np.empty(len(order_day), dtype=object)
    frame = pd.DataFrame({"d": order_day, "c": order_category})
    for (day, cat), idx in frame.groupby(["d", "c"]).indices.items():
        active = (joins <= day) & (day < churns)
        # Customers drift away before they stop: activity fades over their last 120 days
        # (BG/NBD assumes a sudden dropout; spend trends and recent activity show it).
        fading = np.clip((churns - day) / 120.0, 0.1, 1.0)
        weight = activity * fading * active * np.where(home == cat, 15.0, 1.0)
        if weight.sum() <= 0:
            weight = activity
        out[idx] = ids[rng.choice(n_customers, len(idx), p=weight / weight.sum())]
    return list(out)
