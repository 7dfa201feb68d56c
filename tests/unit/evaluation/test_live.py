from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from forecasting.db import make_engine
from forecasting.evaluation.live import live_stats
from forecasting.features import Panel

RUN_DAY = date(2024, 3, 31)


def make_panel(days: int = 91) -> Panel:
    ds = pd.date_range(end=pd.Timestamp(RUN_DAY), periods=days)
    history = pd.DataFrame(
        {
            "unique_id": np.repeat(["A@online", "B@online"], days),
            "sku": np.repeat(["A", "B"], days),
            "location_id": "online",
            "ds": np.tile(ds, 2),
            "y": np.tile(np.arange(days, dtype=float) % 7, 2),
            "price": 1.0,
        }
    )
    future = pd.DataFrame(
        {
            "unique_id": ["A@online", "B@online"],
            "ds": pd.Timestamp(RUN_DAY) + pd.Timedelta(days=1),
            "price": 1.0,
            "promo_discount": 0.0,
        }
    )
    events = pd.DataFrame(columns=["ds", "name", "kind"])
    return Panel.from_long(history, future, events)


@pytest.fixture()
def warehouse(tmp_path):
    """Forecasts of version 3 published every day for the next 7 days: always 2.0."""
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.db'}")
    rows = [
        {
            "model_name": "m",
            "model_version": "3",
            "run_date": (RUN_DAY - timedelta(days=k)).isoformat(),
            "sku": sku,
            "location_id": "online",
            "target_date": (RUN_DAY - timedelta(days=k - h)).isoformat(),
            "forecast": 2.0,
            "p10": 1.0,
            "p50": 2.0,
            "p90": 3.0,
        }
        for k in range(60)
        for sku in ("A", "B", "C")
        for h in range(1, 8)
    ]
    pd.DataFrame(rows).to_sql("demand_forecast", engine, index=False)
    return engine


def test_live_stats_score_weekly_origins_since_promotion(warehouse) -> None:
    panel = make_panel()
    stats, days = live_stats(warehouse, "m", "3", RUN_DAY - timedelta(days=20), RUN_DAY, panel)
    # Origins 20, 13 and 6 days ago; SKU C is not in the panel; targets after today are not.
    assert sorted(stats["unique_id"].unique()) == ["A@online", "B@online"]
    assert stats["window"].nunique() == 3
    assert days == 20 and stats["n"].sum() == 2 * (7 + 7 + 6)


def test_live_stats_without_origins_or_forecasts_are_empty(warehouse) -> None:
    panel = make_panel()
    for version, promoted_on in (("3", RUN_DAY), ("9", RUN_DAY - timedelta(days=20))):
        stats, days = live_stats(warehouse, "m", version, promoted_on, RUN_DAY, panel)
        assert stats.empty and days == 0
