"""A tiny generated shop whose demand answers to promotions, and models fitted on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.features import Panel
from forecasting.models import Forecaster, make_model

HORIZON = 14
N_SERIES = 8
HISTORY_DAYS = 240
#: Series 0 is on a 50 % promotion on forecast days 8-14.
PROMOTED = "S00@online"
PROMO_DAYS = range(8, 15)
SMALL = {"max_origins": 40, "origin_stride": 3}


def make_frames(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """History, future and events of ``N_SERIES`` series: weekly pattern, past promotions
    that triple demand, a holiday before and one inside the horizon."""
    rng = np.random.default_rng(seed)
    end = pd.Timestamp("2024-06-30")
    hist_days = pd.date_range(end=end, periods=HISTORY_DAYS)
    fut_days = pd.date_range(end + pd.Timedelta(days=1), periods=HORIZON + 7)
    history, future = [], []
    for i in range(N_SERIES):
        uid = f"S{i:02d}@online"
        base = 2.0 + 3.0 * i
        promo = np.zeros(HISTORY_DAYS)
        for start in rng.choice(HISTORY_DAYS - 10, size=6, replace=False):
            promo[start : start + 5] = 0.5
        weekly = 1.0 + 0.4 * (hist_days.dayofweek >= 5)
        y = rng.poisson(base * weekly * (1.0 + 4.0 * promo)).astype(float)
        price = 10.0 + i
        history.append(
            pd.DataFrame(
                {
                    "unique_id": uid,
                    "sku": f"S{i:02d}",
                    "location_id": "online",
                    "ds": hist_days,
                    "y": y,
                    "price": price * (1 - promo),
                    "promo_discount": promo,
                }
            )
        )
        fut_promo = np.zeros(len(fut_days))
        if uid == PROMOTED:
            fut_promo[[d - 1 for d in PROMO_DAYS]] = 0.5
        future.append(
            pd.DataFrame(
                {
                    "unique_id": uid,
                    "sku": f"S{i:02d}",
                    "location_id": "online",
                    "ds": fut_days,
                    "price": price * (1 - fut_promo),
                    "promo_discount": fut_promo,
                }
            )
        )
    events = pd.DataFrame(
        {
            "ds": [hist_days[-60], fut_days[3]],
            "name": ["Spring day", "Summer day"],
            "kind": ["holiday", "shopping"],
        }
    )
    return pd.concat(history), pd.concat(future), events


@pytest.fixture(scope="session")
def panel() -> Panel:
    history, future, events = make_frames()
    return Panel.from_long(history, future, events)


@pytest.fixture(scope="session")
def linear(panel: Panel) -> Forecaster:
    return make_model("linear", horizon=HORIZON, params=SMALL).fit(panel)


@pytest.fixture(scope="session")
def hgb(panel: Panel) -> Forecaster:
    return make_model(
        "hgb", horizon=HORIZON, params={**SMALL, "max_iter": 40, "min_samples_leaf": 20}
    ).fit(panel)
