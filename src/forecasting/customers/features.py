"""Customer features as of a cutoff day, and labels by time travel.

Everything here sees only what was known at the cutoff: features from lines on or before
it, labels from the ``LABEL_DAYS`` days after it. The same functions build training rows
(many past cutoffs) and scoring rows (the run's day), so training and serving cannot drift.

Lines (:data:`LINE_COLUMNS`) are the customer extraction's: pseudonymous customer and
order, the shop day, SKU, category, quantity (negative for returns), unit price and whether
the order was cancelled.

Browsing features (:func:`browsing_features`) come from the customer's web events
(:data:`~forecasting.behaviour.events.CUSTOMER_COLUMNS`) with the same rule: events of days
on or before the cutoff, never after. They are added only when events are given, so a shop
without an event log gets exactly the features (and models) it had.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "BROWSING_FEATURES",
    "BROWSING_LOOKBACK",
    "FEATURE_NAMES",
    "LABEL_DAYS",
    "LINE_COLUMNS",
    "RFM_FEATURES",
    "browsing_features",
    "customer_features",
    "labels",
    "purchases",
]

#: Columns of the customer lines.
LINE_COLUMNS = ("customer", "order", "ds", "sku", "category", "quantity", "unit_price", "cancelled")
#: Days after the cutoff whose purchases make the label.
LABEL_DAYS = 28
#: Look-back windows (days) of the frequency and monetary features.
WINDOWS = (30, 90, 180, 365)
#: Features of the logistic RFM baseline.
RFM_FEATURES = ("log_recency", "log_frequency", "log_monetary")
_TOP_CATEGORIES = 5


def purchases(lines: pd.DataFrame) -> pd.DataFrame:
    """Lines that are purchases: positive quantities in orders that were not cancelled."""
    return lines.loc[(lines["quantity"] > 0) & (lines["cancelled"] == 0)]


def _orders(lines: pd.DataFrame) -> pd.DataFrame:
    bought = purchases(lines)
    value = bought["quantity"] * bought["unit_price"]
    return (
        bought.assign(value=value)
        .groupby(["customer", "order"], sort=False)
        .agg(
            ds=("ds", "min"),
            revenue=("value", "sum"),
            units=("quantity", "sum"),
            lines=("sku", "size"),
            skus=("sku", "nunique"),
        )
        .reset_index()
    )


def _interval_stats(orders: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and the last of the gaps between a customer's order days."""
    days = orders[["customer", "ds"]].drop_duplicates().sort_values(["customer", "ds"])
    gaps = days.groupby("customer")["ds"].diff().dt.days
    frame = days.assign(gap=gaps).dropna(subset=["gap"])
    stats = frame.groupby("customer")["gap"].agg(gap_mean="mean", gap_std="std", gap_last="last")
    return stats


def _recent_activity(orders: pd.DataFrame, age: pd.Series) -> pd.DataFrame:
    """Purchase days in the last 14/60 days, the age of the second-latest purchase day, and
    purchase days weighted by recency (half-lives 14 and 60 days)."""
    days = pd.DataFrame({"customer": orders["customer"], "age": age}).drop_duplicates()
    by = days.groupby("customer")["age"]
    out = pd.DataFrame(index=by.size().index)
    for w in (14, 60):
        out[f"purchase_days_{w}"] = (days["age"] < w).groupby(days["customer"]).sum()
    out["recency_second"] = by.nsmallest(2).groupby(level=0).max()
    out.loc[by.size() < 2, "recency_second"] = np.nan
    for halflife in (14, 60):
        weight = 0.5 ** (days["age"] / halflife)
        out[f"decayed_days_{halflife}"] = weight.groupby(days["customer"]).sum()
    return out


def _gap_hazard(orders: pd.DataFrame, recency: pd.Series, prior_weight: float = 2.0) -> pd.Series:
    """Each customer's own chance of buying in the next ``LABEL_DAYS`` days given the days
    since their last purchase, from the gaps between their past purchase days: the share
    of gaps longer than the current recency that ended within ``LABEL_DAYS`` more days,
    shrunk towards the same share over all customers' gaps."""
    days = orders[["customer", "ds"]].drop_duplicates().sort_values(["customer", "ds"])
    gap = days.groupby("customer")["ds"].diff().dt.days
    gaps = pd.DataFrame({"customer": days["customer"], "gap": gap}).dropna()
    r = recency.reindex(gaps["customer"]).to_numpy()
    longer = gaps["gap"].to_numpy() > r
    ended = longer & (gaps["gap"].to_numpy() <= r + LABEL_DAYS)
    n_longer = pd.Series(longer, index=gaps["customer"]).groupby(level=0).sum()
    n_ended = pd.Series(ended, index=gaps["customer"]).groupby(level=0).sum()
    prior = float(ended.sum()) / max(float(longer.sum()), 1.0)
    n_longer = n_longer.reindex(recency.index, fill_value=0)
    n_ended = n_ended.reindex(recency.index, fill_value=0)
    return (n_ended + prior_weight * prior) / (n_longer + prior_weight)


def _add_habits(out: pd.DataFrame, orders: pd.DataFrame, cutoff: pd.Timestamp) -> None:
    """Add the day-of-week and seasonal habits to ``out`` (one row per customer), in place."""
    weekday = orders["ds"].dt.dayofweek
    out["weekend_share"] = (weekday >= 5).groupby(orders["customer"]).mean()
    share = pd.crosstab(orders["customer"], weekday, normalize="index")
    entropy = -(share * np.log(share.where(share > 0, 1.0))).sum(axis=1)
    out["weekday_entropy"] = entropy.reindex(out.index).fillna(0.0)
    # Seasonal habits: orders in the same 28 days a year before the label window, and in
    # the 28 days before the cutoff.
    ahead = (orders["ds"] > cutoff - pd.Timedelta(days=364)) & (
        orders["ds"] <= cutoff - pd.Timedelta(days=364 - LABEL_DAYS)
    )
    out["orders_same_season_last_year"] = (
        ahead.groupby(orders["customer"]).sum().reindex(out.index, fill_value=0)
    )


def _add_category_shares(
    out: pd.DataFrame, bought: pd.DataFrame, categories: list[str] | None
) -> None:
    """Add each customer's revenue share of the top categories to ``out``, in place
    (``categories`` default: the five largest by revenue in ``bought``)."""
    revenue = bought["quantity"] * bought["unit_price"]
    if categories is None:
        by_cat = revenue.groupby(bought["category"]).sum().sort_values(ascending=False)
        categories = list(by_cat.index[:_TOP_CATEGORIES])
    mix = pd.crosstab(bought["customer"], bought["category"], values=revenue, aggfunc="sum")
    mix = mix.div(mix.sum(axis=1), axis=0).fillna(0.0)
    for i in range(_TOP_CATEGORIES):
        name = categories[i] if i < len(categories) else None
        col = mix[name] if name in mix.columns else 0.0
        out[f"category_share_{i}"] = pd.Series(col, index=mix.index).reindex(out.index).fillna(0.0)


def customer_features(
    lines: pd.DataFrame,
    cutoff: pd.Timestamp,
    categories: list[str] | None = None,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Features of every customer with at least one purchase on or before ``cutoff``.

    Recency, frequency and monetary value over several windows; inter-purchase interval
    statistics; tenure; trend of spend; basket size and diversity; category mix;
    cancellation and return rates; day-of-week and seasonal habits.

    Args:
        lines: Customer lines (:data:`LINE_COLUMNS`), ``ds`` as datetime.
        cutoff: The last day the features may see.
        categories: Categories whose revenue shares become features (default: the five
            largest by revenue in ``lines`` up to the cutoff).
        events: The customers' web events (:func:`browsing_features`); ``None``: no
            browsing features (a shop without an event log).

    Returns:
        One row per customer (index ``customer``), :data:`FEATURE_NAMES` columns (float),
        then :data:`BROWSING_FEATURES` when ``events`` is given.
    """
    cutoff = pd.Timestamp(cutoff)
    names = list(FEATURE_NAMES) + (list(BROWSING_FEATURES) if events is not None else [])
    seen = lines.loc[lines["ds"] <= cutoff]
    orders = _orders(seen)
    if orders.empty:
        return pd.DataFrame(columns=names, dtype=float).rename_axis("customer")
    age = (cutoff - orders["ds"]).dt.days
    grouped = orders.groupby("customer")
    out = pd.DataFrame(index=grouped.size().index)
    out["recency"] = age.groupby(orders["customer"]).min()
    out["tenure"] = age.groupby(orders["customer"]).max()
    out["frequency"] = grouped.size()
    out["monetary"] = grouped["revenue"].sum()
    for w in WINDOWS:
        recent = orders.loc[age < w].groupby("customer")
        out[f"frequency_{w}"] = recent.size().reindex(out.index, fill_value=0)
        out[f"monetary_{w}"] = recent["revenue"].sum().reindex(out.index, fill_value=0.0)
    prev = orders.loc[(age >= 90) & (age < 180)].groupby("customer")["revenue"].sum()
    out["spend_trend"] = np.log1p(out["monetary_90"]) - np.log1p(prev.reindex(out.index).fillna(0))
    out["order_value"] = out["monetary"] / out["frequency"]
    out["basket_units"] = grouped["units"].mean()
    out["basket_lines"] = grouped["lines"].mean()
    bought = purchases(seen)
    per_customer = bought.groupby("customer")
    out["distinct_skus"] = per_customer["sku"].nunique().reindex(out.index, fill_value=0)
    out["sku_diversity"] = out["distinct_skus"] / per_customer.size().reindex(
        out.index, fill_value=1
    )
    out["distinct_categories"] = per_customer["category"].nunique().reindex(out.index, fill_value=0)
    out = out.join(_interval_stats(orders))
    out["gap_mean"] = out["gap_mean"].fillna(out["tenure"] + 365)  # one order: no gap yet
    out["gap_std"] = out["gap_std"].fillna(0.0)
    out["gap_last"] = out["gap_last"].fillna(out["tenure"] + 365)
    out["overdue"] = out["recency"] / np.maximum(out["gap_mean"], 1.0)
    out = out.join(_recent_activity(orders, age))
    out["gap_hazard"] = _gap_hazard(orders, out["recency"])
    all_orders = seen.groupby(["customer", "order"], sort=False)["cancelled"].max()
    cancelled = all_orders.groupby(level="customer").mean()
    out["cancel_rate"] = cancelled.reindex(out.index).fillna(0.0)
    returns = seen.loc[seen["quantity"] < 0].groupby("customer").size()
    out["return_rate"] = returns.reindex(out.index, fill_value=0) / per_customer.size().reindex(
        out.index, fill_value=1
    )
    _add_habits(out, orders, cutoff)
    _add_category_shares(out, bought, categories)
    out["log_recency"] = np.log1p(out["recency"])
    out["log_frequency"] = np.log1p(out["frequency"])
    out["log_monetary"] = np.log1p(out["monetary"].clip(lower=0))
    if events is not None:
        out = out.join(browsing_features(events, seen, cutoff, out.index))
    return out.loc[:, names].astype(float).rename_axis("customer")


#: Days of events the browsing features look back over (counts over 7 and 28 days,
#: abandoned carts of the last 28 days); the neutral "days since" of a customer without
#: events in them.
BROWSING_LOOKBACK = 28
#: Browsing features, in the order models receive them (after :data:`FEATURE_NAMES`).
BROWSING_FEATURES: tuple[str, ...] = (
    "has_browsing",
    "days_since_view",
    "days_since_cart_add",
    "views_7",
    "views_28",
    "cart_adds_7",
    "cart_adds_28",
    "abandoned_carts_28",
)


def browsing_features(
    events: pd.DataFrame, lines: pd.DataFrame, cutoff: pd.Timestamp, customers: pd.Index
) -> pd.DataFrame:
    """What each customer did on the website in the :data:`BROWSING_LOOKBACK` days up to
    ``cutoff`` (inclusive, like orders: the cutoff day is the last day seen).

    * ``has_browsing``: 1 with any item event in the look-back, else 0;
    * ``days_since_view``, ``days_since_cart_add``: days from the last such event's day to
      the cutoff (0: that day); :data:`BROWSING_LOOKBACK` without one (neutral);
    * ``views_7``, ``views_28``, ``cart_adds_7``, ``cart_adds_28``: events in the last 7
      and 28 days;
    * ``abandoned_carts_28``: distinct SKUs added to the cart in the last 28 days and not
      bought on or after the day of the (last) cart add, up to the cutoff.

    When the events do not reach back over the whole look-back (the event log starts
    after ``cutoff - BROWSING_LOOKBACK + 1``) nothing is known: every feature is NaN (the
    boosters treat it as missing, the network imputes the median), never a made-up 0.

    Args:
        events: :data:`~forecasting.behaviour.events.CUSTOMER_COLUMNS`.
        lines: The customer lines up to the cutoff (for abandoned carts).
        cutoff: The last day the features may see.
        customers: The customers to describe (index of the result).

    Returns:
        :data:`BROWSING_FEATURES` columns (float), index ``customers``.
    """
    cutoff = pd.Timestamp(cutoff)
    start = cutoff - pd.Timedelta(days=BROWSING_LOOKBACK - 1)
    out = pd.DataFrame(index=customers)
    if events.empty or pd.Timestamp(events["ds"].min()) > start:
        for name in BROWSING_FEATURES:
            out[name] = np.nan
        return out
    seen = events.loc[(events["ds"] >= start) & (events["ds"] <= cutoff)]
    seen = seen.loc[seen["customer"].isin(customers)]
    age = (cutoff - seen["ds"]).dt.days
    out["has_browsing"] = seen.groupby("customer").size().reindex(customers).notna()
    for kind, name in (("view", "views"), ("cart_add", "cart_adds")):
        mine = seen["event_type"] == kind
        last = age.loc[mine].groupby(seen.loc[mine, "customer"]).min()
        out[f"days_since_{kind}"] = last.reindex(customers).fillna(BROWSING_LOOKBACK)
        for days in (7, 28):
            recent = mine & (age < days)
            n = seen.loc[recent].groupby("customer")["events"].sum()
            out[f"{name}_{days}"] = n.reindex(customers, fill_value=0)
    carts = seen.loc[seen["event_type"] == "cart_add"]
    carts = carts.groupby(["customer", "sku"])["ds"].max().rename("carted").reset_index()
    bought = purchases(lines.loc[(lines["ds"] >= start) & (lines["ds"] <= cutoff)])
    last_bought = bought.groupby(["customer", "sku"])["ds"].max().rename("bought")
    carts = carts.join(last_bought, on=["customer", "sku"])
    abandoned = carts.loc[~(carts["bought"] >= carts["carted"])].groupby("customer").size()
    out["abandoned_carts_28"] = abandoned.reindex(customers, fill_value=0)
    return out.loc[:, list(BROWSING_FEATURES)].astype(float)


#: Feature columns, in the order models receive them.
FEATURE_NAMES: tuple[str, ...] = (
    "recency",
    "tenure",
    "frequency",
    "monetary",
    *[f"frequency_{w}" for w in WINDOWS],
    *[f"monetary_{w}" for w in WINDOWS],
    "spend_trend",
    "order_value",
    "basket_units",
    "basket_lines",
    "distinct_skus",
    "sku_diversity",
    "distinct_categories",
    "gap_mean",
    "gap_std",
    "gap_last",
    "overdue",
    "purchase_days_14",
    "purchase_days_60",
    "recency_second",
    "decayed_days_14",
    "decayed_days_60",
    "gap_hazard",
    "cancel_rate",
    "return_rate",
    "weekend_share",
    "weekday_entropy",
    "orders_same_season_last_year",
    *[f"category_share_{i}" for i in range(_TOP_CATEGORIES)],
    *RFM_FEATURES,
)


def labels(lines: pd.DataFrame, cutoff: pd.Timestamp, days: int = LABEL_DAYS) -> pd.DataFrame:
    """Whether (and how often) each customer bought in the ``days`` after ``cutoff``.

    Returns:
        Index ``customer`` (customers with a purchase in the window), columns ``bought``
        (1) and ``orders`` (distinct orders). Customers absent from it bought nothing.
    """
    cutoff = pd.Timestamp(cutoff)
    window = purchases(lines)
    window = window.loc[
        (window["ds"] > cutoff) & (window["ds"] <= cutoff + pd.Timedelta(days=days))
    ]
    orders = window.groupby("customer")["order"].nunique()
    return pd.DataFrame({"bought": 1, "orders": orders}).rename_axis("customer")
