"""Cold-start forecasts: launch curves, their backtest and the benchmark's --launches-csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.cli.app import main
from forecasting.features.panel import Panel
from forecasting.text.embedding import TextEmbedding
from forecasting.text.launch import (
    LAUNCH_COLUMNS,
    LaunchParams,
    backtest_launches,
    first_sale_index,
    forecast_launches,
    launch_category,
)

DAYS = 160
HORIZON = 28
#: Product families: text, daily units at a location once launched, price.
FAMILIES = {
    "JUMBO BAG RED RETROSPOT": (6.0, 2.0),
    "CERAMIC HEART MUG PINK": (0.6, 4.0),
    "GLASS STAR T-LIGHT HOLDER": (2.0, 3.0),
}
LOCATIONS = ("online", "store-2")


def _shop(seed: int = 0) -> tuple[Panel, pd.DataFrame]:
    """Two locations, three families of products launched one after another.

    A family's products sell alike (the text is what predicts the level); the second
    location sells half as much. Every product that launches after day 10 is a launch.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=DAYS, freq="D")
    n_hist = DAYS - HORIZON
    products, frames = [], []
    for f, (family, (level, price)) in enumerate(FAMILIES.items()):
        for j in range(14):
            sku = f"{f}{j:02d}"
            launch = 0 if j < 2 else 10 + 9 * j + f
            products.append(
                {
                    "sku": sku,
                    "name": f"{family} {['SMALL', 'LARGE', 'MINI', 'SET'][j % 4]} {j}",
                    "description": f"{family} {['SMALL', 'LARGE', 'MINI', 'SET'][j % 4]}",
                    "category": "product",
                    "list_price": price * (1 + 0.1 * (j % 3)),
                    "launched_on": dates[launch],
                }
            )
            age = np.arange(n_hist - launch)
            curve = level * (1.5 - 0.5 * np.exp(-age / 10.0))  # ramps up after launch
            for loc, share in zip(LOCATIONS, (1.0, 0.5), strict=True):
                frames.append(
                    pd.DataFrame(
                        {
                            "unique_id": f"{sku}@{loc}",
                            "sku": sku,
                            "location_id": loc,
                            "ds": dates[launch:n_hist],
                            "y": rng.poisson(curve * share).astype(float),
                            "price": price,
                        }
                    )
                )
    history = pd.concat(frames, ignore_index=True)
    keys = history.drop_duplicates("unique_id")[["unique_id", "sku", "location_id", "price"]]
    future = keys.merge(pd.DataFrame({"ds": dates[n_hist:]}), how="cross")
    return Panel.from_long(history, future), pd.DataFrame(products)


@pytest.fixture(scope="module")
def shop() -> tuple[Panel, pd.DataFrame, TextEmbedding]:
    panel, catalogue = _shop()
    return panel, catalogue, TextEmbedding.fit(catalogue, dimensions=8)


def _planned(sku: str, text: str, price: float, day: pd.Timestamp) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": [sku],
            "name": [text],
            "description": [text],
            "category": ["product"],
            "list_price": [price],
            "launched_on": [day],
        }
    )


def test_forecasts_new_and_young_products_in_the_pipelines_columns(
    shop: tuple[Panel, pd.DataFrame, TextEmbedding],
) -> None:
    panel, catalogue, embedding = shop
    origin = panel.n_history - 1
    day = pd.Timestamp(panel.dates[origin]) + pd.Timedelta(days=5)
    out = forecast_launches(
        panel,
        catalogue,
        origin,
        HORIZON,
        embedding,
        launches=_planned("NEW1", "JUMBO BAG RED RETROSPOT LARGE", 2.2, day),
    )
    assert tuple(out.columns) == LAUNCH_COLUMNS
    q = out[["p10", "p50", "p90", "forecast"]].to_numpy()
    assert np.isfinite(q).all() and (q >= 0).all()
    assert (out["p10"] <= out["p50"]).all() and (out["p50"] <= out["p90"]).all()
    assert (out["forecast"] == out["p50"]).all()
    new = out.loc[out["sku"] == "NEW1"]
    # every location, every day of the horizon, nothing before the launch date
    assert sorted(new["location_id"].unique()) == sorted(LOCATIONS)
    assert len(new) == len(LOCATIONS) * HORIZON and (new["history_days"] == 0).all()
    assert (new.loc[new["ds"] < day, ["p10", "p50", "p90"]].to_numpy() == 0).all()
    assert new.loc[new["ds"] >= day, "p50"].sum() > 0
    assert (new["unique_id"] == new["sku"] + "@" + new["location_id"]).all()
    # split by the locations' share of demand: the second store sells half as much
    by_loc = new.groupby("location_id")["p50"].sum()
    assert by_loc["store-2"] / by_loc["online"] == pytest.approx(0.5, rel=0.15)
    # young series: first sale under 28 days before the origin, with their days of history
    first = first_sale_index(panel.y, origin)
    young = panel.ids.loc[(first >= 0) & (origin - first < 28), "unique_id"]
    assert set(young) == set(out.loc[out["history_days"] > 0, "unique_id"])
    assert out.loc[out["history_days"] > 0, "history_days"].between(1, 28).all()
    assert out["ds"].min() == panel.dates[origin] + pd.Timedelta(days=1)


def test_text_neighbours_set_the_level_and_demand_after_the_origin_is_never_read(
    shop: tuple[Panel, pd.DataFrame, TextEmbedding],
) -> None:
    panel, catalogue, embedding = shop
    origin = panel.n_history - 1
    day = pd.Timestamp(panel.dates[origin]) + pd.Timedelta(days=1)
    launches = pd.concat(
        [
            _planned("BIG", "JUMBO BAG RED RETROSPOT SET", 2.0, day),
            _planned("SMALL", "CERAMIC HEART MUG PINK SET", 4.0, day),
        ]
    )
    cutoff = origin - 40
    truncated = panel.truncate(cutoff)
    args = (catalogue.assign(launched_on=pd.NaT), cutoff, HORIZON, embedding)
    out = forecast_launches(
        truncated, *args, launches=launches.assign(launched_on=day - pd.Timedelta(days=39))
    )
    totals = out.groupby("sku")["p50"].sum()
    assert totals["BIG"] > 3 * totals["SMALL"]
    # the same origin on the full panel: demand after the cut-off changes nothing
    full = forecast_launches(
        panel, *args, launches=launches.assign(launched_on=day - pd.Timedelta(days=39))
    )
    pd.testing.assert_frame_equal(out, full)


@pytest.mark.parametrize("similarity", ["tfidf", "embedding"])
def test_both_similarities_find_the_family_and_tfidf_is_the_default(
    shop: tuple[Panel, pd.DataFrame, TextEmbedding], similarity: str
) -> None:
    panel, catalogue, embedding = shop
    assert LaunchParams().similarity == "tfidf"
    origin = panel.n_history - 1
    day = pd.Timestamp(panel.dates[origin]) + pd.Timedelta(days=1)
    launches = pd.concat(
        [
            _planned("BIG", "JUMBO BAG RED RETROSPOT MINI", 2.0, day),
            _planned("SMALL", "CERAMIC HEART MUG PINK MINI", 4.0, day),
        ]
    )
    out = forecast_launches(
        panel,
        catalogue.assign(launched_on=pd.NaT),
        origin,
        HORIZON,
        embedding,
        launches=launches,
        params=LaunchParams(k=5, similarity=similarity),
    )
    totals = out.groupby("sku")["p50"].sum()
    assert totals["BIG"] > 3 * totals["SMALL"] > 0


def test_the_backtest_beats_the_baselines_where_text_predicts_the_level(
    shop: tuple[Panel, pd.DataFrame, TextEmbedding],
) -> None:
    panel, catalogue, embedding = shop
    cutoffs = [70, 90, 110]
    table = backtest_launches(
        panel, catalogue, cutoffs, 20, embedding, params=LaunchParams(k=5), tuned_on=1
    )
    assert set(table["method"]) == {"ours", "zero", "median_curve", "category_curve"}
    assert list(table.loc[table["window"] != "all", "split"].unique()) == ["tuning", "reported"]
    pooled = table.loc[(table["window"] == "all") & (table["split"] == "reported")]
    wape = pooled.set_index("method")["wape"]
    assert wape["zero"] == pytest.approx(1.0)
    assert wape["ours"] < 0.8 * min(wape["median_curve"], wape["category_curve"])
    assert (pooled["launches"] > 0).all() and pooled["coverage"].between(0, 1).all()


def test_a_single_category_falls_back_to_the_descriptions_last_word() -> None:
    one = pd.DataFrame({"description": ["RED MUG", "BLUE MUG ", "JUMBO BAG"], "category": "x"})
    assert launch_category(one).tolist() == ["MUG", "MUG", "BAG"]
    two = one.assign(category=["a", "b", "b"])
    assert launch_category(two).tolist() == ["a", "b", "b"]


# ---------------------------------------------------------------------- the benchmark
def _launch_csv(tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    path = tmp_path / "launches.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_launches_csv_is_checked_with_clear_errors(
    shop: tuple[Panel, pd.DataFrame, TextEmbedding], tmp_path: Path
) -> None:
    from forecasting_bench.launches import read_launches_csv

    panel, catalogue, _ = shop
    last = pd.Timestamp(panel.dates[panel.n_history - 1])
    ok = {"sku": "N1", "description": "RED MUG", "unit_price": 2.5, "launch_date": str(last.date())}
    bad_cols = _launch_csv(tmp_path, [{"sku": "N1", "description": "x"}])
    with pytest.raises(ValueError, match=r"missing column.*unit_price, launch_date"):
        read_launches_csv(bad_cols, panel, HORIZON, catalogue)
    with pytest.raises(ValueError, match="launch_date must be a date from"):
        read_launches_csv(_launch_csv(tmp_path, [ok]), panel, HORIZON, catalogue)
    with pytest.raises(ValueError, match="already in the file"):
        read_launches_csv(_launch_csv(tmp_path, [{**ok, "sku": "000"}]), panel, HORIZON, catalogue)
    good = {**ok, "launch_date": str((last + pd.Timedelta(days=3)).date())}
    read = read_launches_csv(_launch_csv(tmp_path, [good]), panel, HORIZON, catalogue)
    assert read.loc[0, "category"] == "product" and read.loc[0, "list_price"] == 2.5


def test_launch_rows_are_appended_to_the_future_csv_end_to_end(
    shop: tuple[Panel, pd.DataFrame, TextEmbedding], tmp_path: Path
) -> None:
    from forecasting_bench.launches import append_launch_rows, read_launches_csv

    panel, catalogue, embedding = shop
    last = pd.Timestamp(panel.dates[panel.n_history - 1])
    launch_day = last + pd.Timedelta(days=10)
    csv = _launch_csv(
        tmp_path,
        [
            {
                "sku": "N1",
                "description": "JUMBO BAG RED RETROSPOT",
                "unit_price": 2.0,
                "launch_date": str(launch_day.date()),
            }
        ],
    )
    launches = read_launches_csv(csv, panel, HORIZON, catalogue)
    columns = ("sku", "date", "forecast", "p10", "p50", "p90")
    future = pd.DataFrame([["000", "2024-05-12", 1.0, 0.0, 1.0, 2.0]], columns=list(columns))
    out_csv = tmp_path / "out.csv"
    rows = append_launch_rows(
        panel, catalogue, launches, embedding, LaunchParams(k=5), HORIZON, future, columns, out_csv
    )
    written = pd.read_csv(out_csv, dtype={"sku": str})
    assert tuple(written.columns) == columns and len(written) == 1 + HORIZON == 1 + len(rows)
    new = written.loc[written["sku"] == "N1"]
    dates = pd.to_datetime(new["date"])
    assert dates.min() == last + pd.Timedelta(days=1) and dates.max() == last + pd.Timedelta(
        days=28
    )
    assert (new.loc[dates < launch_day, "forecast"] == 0).all()
    assert new.loc[dates >= launch_day, "forecast"].sum() > 0


def test_launches_csv_without_future_csv_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["benchmark", "online-retail", "--data-dir", "nowhere", "--launches-csv", "L.csv"]
    assert main(argv) == 1
    assert "--launches-csv needs --future-csv" in capsys.readouterr().err
