"""What explanations cost: :func:`forecasting.explain.explain_forecasts` on the demo shop's
panel and on copies of it (about 3,000 series), all series and a subset, with a fitted
model. Extrapolate linearly in series to the scale catalogue (30,000).

    OMP_NUM_THREADS=1 .venv/bin/python bench/explain_cost.py --model hgb --copies 34

Prints the time of one scoring, of explaining every series (``2 ** K`` scorings) and of
explaining 100 series (the forecaster scores only them; its features see every series),
and the largest gap between the drivers' sum and the forecast.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from upath import UPath

from forecasting.db import make_engine
from forecasting.explain import (
    applicable_groups,
    bucket_totals,
    explain_forecasts,
    forecaster_predictor,
)
from forecasting.extraction import ExtractWindow, extract_all
from forecasting.features import Panel
from forecasting.models import make_model
from forecasting.sources import load_shop
from forecasting.sources.synthetic import generate_shop

HORIZON = 28


def _copies(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    return pd.concat(
        [frame.assign(unique_id=frame["unique_id"] + f"#{k}", sku=frame["sku"] + f"#{k}")
         for k in range(n)],
        ignore_index=True,
    )  # fmt: skip


def _timed(label: str, model, panel: Panel, series: list[str] | None = None) -> pd.DataFrame:
    groups = applicable_groups(panel, daily=False)
    started = time.perf_counter()
    drivers = explain_forecasts(
        forecaster_predictor(model, HORIZON, series=series), panel, HORIZON, series, groups
    )
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.1f} s for {2 ** len(groups)} scorings ({len(groups)} groups)")
    return drivers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="hgb")
    parser.add_argument("--copies", type=int, default=34)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="explain_cost_"))
    engine = make_engine(f"sqlite:///{folder / 'shop.db'}")
    load_shop(engine, generate_shop())
    window = ExtractWindow.for_logical_date(date(2024, 6, 30), history_days=730, horizon=HORIZON)
    extract = extract_all(engine, window, UPath(folder / "storage"))
    demo = Panel.from_long(extract.history, extract.future, extract.events)
    model = make_model(args.model, horizon=HORIZON).fit(demo)
    for label, panel in (
        ("demo", demo),
        (
            f"demo x{args.copies}",
            Panel.from_long(
                _copies(extract.history, args.copies),
                _copies(extract.future, args.copies),
                extract.events,
            ),
        ),
    ):
        started = time.perf_counter()
        forecast = model.predict(panel, HORIZON)
        one = time.perf_counter() - started
        print(f"{label}: {panel.n_series} series, one scoring {one:.2f} s")
        drivers = _timed(f"{label}: explain all", model, panel)
        sums = drivers.groupby(["unique_id", "horizon_bucket"], as_index=False)["contribution"]
        check = sums.sum().merge(bucket_totals(forecast, HORIZON))
        print(
            f"{label}: max |drivers - forecast| {np.abs(check.contribution - check.forecast).max():.1e}"
        )
        _timed(f"{label}: explain 100", model, panel, list(panel.ids["unique_id"][:100]))


if __name__ == "__main__":
    main()
