"""What replenishment starts from: units on hand, units on order and each series' policy,
read once per run by ``sync_source`` from the optional ``inventory_snapshots``,
``purchase_orders`` and ``replenishment_policy`` tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from upath import UPath

from forecasting.artifacts import STOCK_FRAMES
from forecasting.db import read_frame
from forecasting.sources.shop import TABLE_COLUMNS
from forecasting.storage import read_parquet, write_parquet

__all__ = [
    "Stock",
    "positions_from_stock",
    "read_stock",
    "read_stock_snapshot",
    "write_stock_snapshot",
]


@dataclass(frozen=True)
class Stock:
    """The shop's stock position on a run's day.

    Attributes:
        on_hand: ``sku, location_id, snapshot_date, units_on_hand``: each series' latest
            snapshot on or before the day.
        open_orders: ``purchase_order_id, sku, location_id, quantity, ordered_on,
            expected_on`` of the purchase orders open on the day.
        policy: ``sku, location_id, lead_time_days, review_period_days, service_level,
            pack_size, min_order_qty``.
    """

    on_hand: pd.DataFrame
    open_orders: pd.DataFrame
    policy: pd.DataFrame


def read_stock(engine: Engine, run_day: date) -> Stock | None:
    """Read the stock position, or ``None`` when the source has no replenishment policy
    (the table is missing or empty: nothing is suggested).

    A source without ``purchase_orders`` has nothing on order; one without
    ``inventory_snapshots`` has no units on hand to start from (no suggestions either).
    """
    inspector = sa.inspect(engine)
    if not inspector.has_table("replenishment_policy"):
        return None
    policy = read_frame(engine, "extract/select_replenishment_policy", {})
    if policy.empty or not inspector.has_table("inventory_snapshots"):
        return None
    params = {"run_day": run_day.isoformat()}  # a plain string: drivers differ on dates
    on_hand = read_frame(engine, "extract/select_stock_on_hand", params)
    if inspector.has_table("purchase_orders"):
        orders = read_frame(engine, "extract/select_open_purchase_orders", params)
    else:
        orders = pd.DataFrame(columns=list(TABLE_COLUMNS["purchase_orders"]))
    return Stock(
        on_hand=on_hand.astype({"units_on_hand": float}),
        open_orders=orders.astype({"quantity": float}),
        policy=policy.astype(
            {
                "lead_time_days": "int64",
                "review_period_days": "int64",
                "service_level": float,
                "pack_size": "int64",
                "min_order_qty": "int64",
            }
        ),
    )


def write_stock_snapshot(stock: Stock, folder: UPath) -> None:
    """Write the stock position into the run's catalogue snapshot."""
    for name, file in STOCK_FRAMES.items():
        write_parquet(getattr(stock, name), folder / file)


def read_stock_snapshot(folder: UPath) -> Stock | None:
    """The stock position :func:`write_stock_snapshot` wrote (``None`` without one)."""
    paths = {name: folder / file for name, file in STOCK_FRAMES.items()}
    if not all(p.exists() for p in paths.values()):
        return None
    return Stock(**{name: read_parquet(p) for name, p in paths.items()})


def positions_from_stock(stock: Stock, series: pd.DataFrame, run_day: date) -> pd.DataFrame:
    """Each forecast series' inventory position and policy
    (:func:`forecasting.replenishment.positions_from_source` on the run's stock position):
    series without a policy row or a snapshot get no suggestion.

    Args:
        stock: The run's stock position.
        series: ``sku, location_id`` of the series forecast.
        run_day: The run's day.

    Returns:
        :data:`~forecasting.replenishment.POSITION_COLUMNS` of the forecast series.
    """
    from forecasting.replenishment import positions_from_source

    positions = positions_from_source(stock.on_hand, stock.open_orders, stock.policy, run_day)
    keys = ["sku", "location_id"]
    return positions.merge(series.loc[:, keys].drop_duplicates(), on=keys)
