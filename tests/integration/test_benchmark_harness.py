"""The benchmark harness on tiny files in the real datasets' formats (so it cannot rot)."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main

pytestmark = pytest.mark.integration

FAST = '{"linear": {"max_origins": 10}, "hgb": {"max_iter": 10, "max_origins": 10}}'


def write_store_item(root: Path, stores: int = 2, items: int = 2, days: int = 400) -> None:
    rng = np.random.default_rng(0)
    dates = pd.date_range("2016-01-01", periods=days)
    rows = []
    for s in range(1, stores + 1):
        for i in range(1, items + 1):
            level = 10 * s + 5 * i
            weekly = 1 + 0.3 * (dates.dayofweek >= 5)
            rows.append(
                pd.DataFrame(
                    {
                        "date": dates.strftime("%Y-%m-%d"),
                        "store": s,
                        "item": i,
                        "sales": rng.poisson(level * weekly),
                    }
                )
            )
    folder = root / "store_item_demand"
    folder.mkdir(parents=True)
    with gzip.open(folder / "sales_test.csv.gz", "wt") as fh:
        pd.concat(rows).to_csv(fh, index=False)


def write_online_retail(root: Path, days: int = 200) -> None:
    rng = np.random.default_rng(1)
    rows = []
    invoice = 500000
    for day in pd.date_range("2011-01-01", periods=days):
        if day.dayofweek == 5:
            continue  # the shop does not trade on Saturdays
        for _ in range(rng.poisson(3)):
            invoice += 1
            for code in rng.choice(
                ["85123A", "22423", "84879", "POST", "m"], size=2, replace=False
            ):
                rows.append(
                    (
                        str(invoice),
                        code,
                        "x",
                        int(rng.integers(1, 12)),
                        f"{day:%Y-%m-%d} 10:00:00",
                        2.5,
                        "17850",
                        "United Kingdom",
                    )
                )
        if rng.random() < 0.2:
            rows.append(
                (
                    f"C{invoice}",
                    "22423",
                    "x",
                    -3,
                    f"{day:%Y-%m-%d} 11:00:00",
                    2.5,
                    "17850",
                    "United Kingdom",
                )
            )
    frame = pd.DataFrame(
        rows,
        columns=[
            "InvoiceNo",
            "StockCode",
            "Description",
            "Quantity",
            "InvoiceDate",
            "UnitPrice",
            "CustomerID",
            "Country",
        ],
    )
    folder = root / "online_retail"
    folder.mkdir(parents=True)
    with gzip.open(folder / "online_retail_test.csv.gz", "wt") as fh:
        frame.to_csv(fh, index=False)


def run_benchmark(dataset: str, tmp_path: Path, models: str, peers: str, shards: int = 1) -> Path:
    """Run ``forecasting benchmark`` on the tiny files with one window; return the future CSV."""
    out = tmp_path / "future.csv"
    code = main(
        [
            "benchmark",
            dataset,
            "--data-dir",
            str(tmp_path / "data"),
            "--windows",
            "1",
            "--models",
            models,
            "--model-params",
            FAST,
            "--peers",
            peers,
            "--future-csv",
            str(out),
            "--leadtime-csv",
            str(tmp_path / "leadtime.csv"),
            "--output-dir",
            str(tmp_path / "work"),
            "--shards",
            str(shards),
        ]
    )
    assert code == 0
    return out


def test_store_item_benchmark_and_future_csv(tmp_path: Path, capsys) -> None:
    write_store_item(tmp_path / "data")
    out = run_benchmark(
        "store-item-demand",
        tmp_path,
        "seasonal_naive,linear,hgb",
        "sf_seasonal_naive,mlf_lgbm",
        shards=2,  # our models trained per shard, exactly as the DAG's mapped tasks do
    )
    printed = capsys.readouterr().out
    assert "4 series in 2 shard(s)" in printed
    for name in ("seasonal_naive", "linear", "hgb", "peer:sf_seasonal_naive", "peer:mlf_lgbm"):
        assert name in printed
    table = pd.read_csv(tmp_path / "work" / "results.csv")
    assert set(table.columns) >= {
        "rmsse",
        "mase",
        "wape",
        "bias",
        "spl_10",
        "spl_50",
        "spl_90",
        "coverage",
        "seconds",
        "peak_memory_mb",
    }
    assert table[["rmsse", "mase", "spl", "coverage"]].notna().all().all()
    future = pd.read_csv(out)
    assert list(future.columns) == ["store", "item", "date", "forecast", "p10", "p50", "p90"]
    assert (
        len(future) == 4 * 28 and future["date"].min() == "2017-02-04"
    )  # the day after the file (2017-02-03)
    assert ((future["p10"] <= future["p50"]) & (future["p50"] <= future["p90"])).all()
    # The point forecast is the mean (what RMSSE is computed on), not the median.
    assert (future["forecast"] > 0).all() and not future["forecast"].equals(future["p50"])
    assert "Lead-time quantiles of" in printed
    lead = pd.read_csv(tmp_path / "leadtime.csv")
    levels = ["p50", "p80", "p90", "p95", "p99"]
    assert list(lead.columns) == ["store", "item", "days", *levels]
    assert len(lead) == 4 * 3 and set(lead["days"]) == {7, 14, 28}
    values = lead[levels].to_numpy()
    assert (values >= 0).all() and (np.diff(values, axis=1) >= -1e-9).all()
    # A model of the total, not the sum of daily quantiles: the 28-day P90 is below the
    # sum of the 28 daily P90s, and the median total is near the sum of daily means.
    daily = future.groupby(["store", "item"])[["p90", "forecast"]].sum()
    month = lead.loc[lead["days"] == 28].set_index(["store", "item"])
    assert (month["p90"] < daily["p90"]).all()
    assert np.allclose(month["p50"], daily["forecast"], rtol=0.25)


def test_online_retail_benchmark_target_definition(tmp_path: Path, capsys) -> None:
    write_online_retail(tmp_path / "data")
    out = run_benchmark("online-retail", tmp_path, "seasonal_naive,linear_hurdle", "croston")
    assert "peer:croston" in capsys.readouterr().out
    future = pd.read_csv(out, dtype={"sku": str})
    assert list(future.columns) == ["sku", "date", "forecast", "p10", "p50", "p90"]
    # Non-product codes (POST, m) are not series; real stock codes are.
    assert set(future["sku"]) == {"85123A", "22423", "84879"}
    lead = pd.read_csv(tmp_path / "leadtime.csv", dtype={"sku": str})
    assert list(lead.columns) == ["sku", "days", "p50", "p80", "p90", "p95", "p99"]
    assert set(lead["sku"]) == set(future["sku"]) and set(lead["days"]) == {7, 14, 28}


def test_noise_floor_script_measures_poisson_dispersion(tmp_path: Path) -> None:
    """bench/noise_floor.py (the Store Item oracle in bench/README.md) on known Poisson data."""
    write_store_item(tmp_path, days=500)
    script = Path(__file__).parents[2] / "bench" / "noise_floor.py"
    out = subprocess.run(
        [sys.executable, str(script), "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    values = dict(re.findall(r"^\s*(\w+)\s+([-\d.]+)$", out, flags=re.MULTILINE))
    dispersion = float(re.search(r"cells: ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    assert 0.8 < dispersion < 1.2  # the generator draws Poisson sales
    # The oracle knows the weekday profile and level, so it beats naive-scale noise
    # and its Poisson quantiles cover about 80 %.
    assert 0.0 < float(values["rmsse"]) < 1.0
    assert 0.7 < float(values["coverage"]) < 0.95
    assert out.count("window ") == 3
