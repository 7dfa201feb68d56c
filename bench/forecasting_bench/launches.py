"""New products in the benchmark: the launch backtest and ``--launches-csv``.

``forecasting benchmark online-retail ... --future-csv OUT.csv --launches-csv L.csv``
reads planned launches (``sku,description,unit_price,launch_date``: products that are not
in the file and launch in the 28 days after its last date), forecasts them with
:func:`forecasting.text.launch.forecast_launches` fitted on the whole file and appends
their rows to ``OUT.csv`` in its columns, from the day after the file's last date (zero
before each launch date).

The launch backtest (:func:`launch_backtest`) forecasts, on every window, the SKUs whose
first sale falls inside it as launches known in advance, next to three baselines. The
scored windows are the benchmark's own (the last three 28-day windows of the file);
the hyperparameters are chosen on the 28-day windows before them (tuning windows).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.features.panel import Panel
from forecasting.profiling import PeakMemory
from forecasting.text.embedding import TextEmbedding
from forecasting.text.launch import (
    LaunchParams,
    backtest_launches,
    forecast_launches,
    tune_launch_params,
)

__all__ = [
    "LAUNCH_CSV_COLUMNS",
    "TUNING_WINDOWS",
    "append_launch_rows",
    "format_launch_table",
    "launch_backtest",
    "launch_cutoffs",
    "read_launches_csv",
    "score_launch_rows",
    "write_holdout_launches",
]

log = logging.getLogger(__name__)

#: Columns ``--launches-csv`` must have.
LAUNCH_CSV_COLUMNS = ("sku", "description", "unit_price", "launch_date")
#: 28-day windows before the scored ones on which the launch model's settings are chosen.
TUNING_WINDOWS = 6
#: The tuning grid: neighbours, whether price enters the model and how neighbours are found.
TUNING_GRID = [
    LaunchParams(k=k, price=p, similarity=s)
    for k in (10, 20, 40)
    for p in (True, False)
    for s in ("tfidf", "embedding")
]


def read_launches_csv(
    path: str | Path, panel: Panel, horizon: int, catalogue: pd.DataFrame
) -> pd.DataFrame:
    """Read and check planned launches.

    Args:
        path: CSV with :data:`LAUNCH_CSV_COLUMNS`.
        panel: The file's panel (its last history date and its SKUs).
        horizon: Days after the file's last date a launch may fall in.
        catalogue: The file's catalogue (its most common category is the launches').

    Returns:
        Catalogue-like rows: ``sku, name, description, category, list_price, launched_on``.

    Raises:
        ValueError: A column is missing, a value does not parse, a SKU repeats or is
            already in the file, or a launch date is outside the ``horizon`` days after the
            file's last date.
    """
    frame = pd.read_csv(path, dtype={"sku": str, "description": str})
    missing = [c for c in LAUNCH_CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {', '.join(missing)}; expected "
            f"{','.join(LAUNCH_CSV_COLUMNS)}"
        )
    frame["sku"] = frame["sku"].astype(str).str.strip()
    dup = frame.loc[frame["sku"].duplicated(), "sku"].unique()
    if len(dup):
        raise ValueError(f"{path}: SKU(s) listed twice: {', '.join(map(str, dup[:5]))}")
    known = set(panel.ids["sku"].astype(str)) | set(catalogue["sku"].astype(str))
    already = sorted(set(frame["sku"]) & known)
    if already:
        raise ValueError(
            f"{path}: {len(already)} SKU(s) already in the file (forecast with the other "
            f"series, not as launches): {', '.join(already[:5])}"
        )
    price = pd.to_numeric(frame["unit_price"], errors="coerce")
    if price.isna().any() or (price <= 0).any():
        bad = frame.loc[price.isna() | (price <= 0), "sku"].head(5).tolist()
        raise ValueError(f"{path}: unit_price must be a positive number (SKU(s) {bad})")
    dates = pd.to_datetime(frame["launch_date"], errors="coerce").dt.normalize()
    last = pd.Timestamp(panel.dates[panel.n_history - 1])
    end = last + pd.Timedelta(days=horizon)
    outside = dates.isna() | (dates <= last) | (dates > end)
    if outside.any():
        bad = frame.loc[outside, ["sku", "launch_date"]].head(5).to_dict("records")
        raise ValueError(
            f"{path}: launch_date must be a date from {(last + pd.Timedelta(days=1)).date()} "
            f"to {end.date()} (the {horizon} days after the file); got {bad}"
        )
    products = catalogue.loc[catalogue["category"].astype(str) != "non-product", "category"]
    category = products.mode().iat[0] if len(products) else np.nan
    description = frame["description"].fillna("").astype(str)
    return pd.DataFrame(
        {
            "sku": frame["sku"],
            "name": description,
            "description": description,
            "category": category,
            "list_price": price.astype(float),
            "launched_on": dates,
        }
    )


def launch_cutoffs(
    scored: list[int], horizon: int, tuning: int = TUNING_WINDOWS
) -> tuple[list[int], list[int]]:
    """Tuning cut-offs (``horizon``-day windows before the first scored one) and scored.

    Tuning windows whose cut-off would fall inside the first ``2 * horizon`` days are
    dropped (too few earlier launches to learn from).
    """
    first = min(scored)
    tune = [first - horizon * i for i in range(tuning, 0, -1)]
    return [c for c in tune if c >= 2 * horizon], list(scored)


def launch_backtest(
    panel: Panel,
    catalogue: pd.DataFrame,
    scored: list[int],
    horizon: int,
    embedding: TextEmbedding,
) -> tuple[pd.DataFrame, LaunchParams]:
    """Choose the launch settings on the tuning windows and backtest every window.

    Returns:
        :func:`backtest_launches`'s table (``split`` = ``tuning`` or ``reported``) and
        the settings chosen on the tuning windows.
    """
    tune, report = launch_cutoffs(scored, horizon)
    params = (
        tune_launch_params(panel, catalogue, tune, horizon, embedding, TUNING_GRID)
        if tune
        else LaunchParams()
    )
    table = backtest_launches(
        panel, catalogue, tune + report, horizon, embedding, params=params, tuned_on=len(tune)
    )
    return table, params


def format_launch_table(table: pd.DataFrame, params: LaunchParams) -> str:
    """Text table of the launch backtest, pooled rows last."""
    lines = [
        "Launches (cold start): SKUs first sold inside each window, forecast from text, "
        "category, price and launch date alone; WAPE of launch totals (launch day to "
        "window end), daily RMSSE (scale: the launch's own actuals), P10-P90 coverage. "
        f"Settings chosen on the tuning windows: k={params.k}, price={params.price}, "
        f"similarity={params.similarity}",
        f"{'split':<9}{'window':>7}{'cutoff':>12}{'method':>16}{'launches':>9}"
        f"{'wape':>8}{'bias':>8}{'rmsse':>8}{'coverage':>9}",
    ]
    if table.empty:
        lines.append("(no SKU was first sold inside any window: nothing to score)")
    for _, row in table.iterrows():
        lines.append(
            f"{row['split']:<9}{row['window']:>7}{row['cutoff']:>12}{row['method']:>16}"
            f"{int(row['launches']):>9}{row['wape']:>8.3f}{row['bias']:>8.3f}"
            f"{row['rmsse']:>8.3f}{row['coverage']:>9.3f}"
        )
    return "\n".join(lines)


def append_launch_rows(
    panel: Panel,
    catalogue: pd.DataFrame,
    launches: pd.DataFrame,
    embedding: TextEmbedding,
    params: LaunchParams,
    horizon: int,
    future: pd.DataFrame,
    columns: tuple[str, ...],
    path: str | Path,
) -> pd.DataFrame:
    """Forecast planned launches on the whole file and rewrite ``path`` with their rows.

    Args:
        panel: The file's panel.
        catalogue: The file's catalogue.
        launches: :func:`read_launches_csv`'s rows.
        embedding: Text model fitted on the catalogue.
        params: Launch settings (chosen on the tuning windows).
        horizon: Days after the file.
        future: The rows already written (``sku, date`` and the quantiles).
        columns: The CSV's columns (``sku,date,forecast,p10,p50,p90``).
        path: The future CSV, rewritten with the launches' rows appended.

    Returns:
        The launches' rows as written.
    """
    start = time.perf_counter()
    with PeakMemory() as memory:
        rows = forecast_launches(
            panel,
            catalogue.assign(launched_on=pd.NaT),
            panel.n_history - 1,
            horizon,
            embedding,
            launches=launches,
            params=params,
        )
    rows = rows.loc[rows["sku"].isin(launches["sku"])]
    rows = rows.groupby(["sku", "ds"], as_index=False)[["forecast", "p10", "p50", "p90"]].sum()
    out = pd.DataFrame({"sku": rows["sku"], "date": rows["ds"].dt.strftime("%Y-%m-%d")})
    for column in ("forecast", "p10", "p50", "p90"):
        out[column] = rows[column].round(4).to_numpy()
    out = out.sort_values(["sku", "date"], ignore_index=True)
    written = pd.concat([future.loc[:, list(columns)], out.loc[:, list(columns)]])
    written.to_csv(path, index=False)
    log.info(
        "%d launches forecast in %.2fs (peak %.0f MB), %d rows appended to %s",
        len(launches),
        time.perf_counter() - start,
        memory.peak_mb or 0.0,
        len(out),
        path,
    )
    return out


def write_holdout_launches(
    data_dir: str | Path, out_dir: str | Path, days: int = 28
) -> tuple[Path, Path]:
    """Hold out the last ``days`` of Online Retail to test ``--launches-csv`` on real data.

    Writes ``out_dir/online_retail/<file>.csv.gz`` (the file without its last ``days``
    days: a ``--data-dir`` for the benchmark), ``out_dir/launches.csv`` (the products
    first sold in those days that the cut file never mentions: ``sku,description,
    unit_price,launch_date`` with the median price paid and the first sale day) and
    ``out_dir/truth.csv`` (their daily units sold, ``sku,date,y``:
    positive quantities on invoices that are not cancellations).

    Returns:
        The launches CSV and the truth CSV.
    """
    from forecasting.sources.online_retail import find_online_retail_file, read_online_retail

    out = Path(out_dir)
    (out / "online_retail").mkdir(parents=True, exist_ok=True)
    raw = read_online_retail(find_online_retail_file(data_dir))
    day = raw["InvoiceDate"].dt.normalize()
    last = day.max() - pd.Timedelta(days=days)
    early, late = raw.loc[day <= last], raw.loc[day > last]
    name = f"online_retail_{day.min().date()}_{last.date()}.csv.gz"
    early.to_csv(out / "online_retail" / name, index=False)
    new = set(late["StockCode"].astype(str)) - set(early["StockCode"].astype(str))
    sold = late.loc[
        late["StockCode"].isin(new)
        & (late["Quantity"] > 0)
        & (late["UnitPrice"] > 0)
        & ~late["InvoiceNo"].astype(str).str.startswith("C")
    ]
    g = sold.groupby("StockCode")
    launches = pd.DataFrame(
        {
            "sku": g.size().index.astype(str),
            "description": g["Description"]
            .agg(lambda s: s.dropna().mode().iat[0] if s.notna().any() else "")
            .to_numpy(),
            "unit_price": g["UnitPrice"].median().round(2).to_numpy(),
            "launch_date": g["InvoiceDate"].min().dt.strftime("%Y-%m-%d").to_numpy(),
        }
    )
    launches.to_csv(out / "launches.csv", index=False)
    truth = (
        sold.assign(date=sold["InvoiceDate"].dt.strftime("%Y-%m-%d"))
        .groupby(["StockCode", "date"], as_index=False)["Quantity"]
        .sum()
        .rename(columns={"StockCode": "sku", "Quantity": "y"})
    )
    truth.to_csv(out / "truth.csv", index=False)
    log.info("%d held-out launches after %s -> %s", len(launches), last.date(), out)
    return out / "launches.csv", out / "truth.csv"


def score_launch_rows(
    future_csv: str | Path, launches_csv: str | Path, truth_csv: str | Path
) -> dict[str, float]:
    """Score the launches' rows of a ``--future-csv`` file against held-out truth.

    Each launch is scored from its launch date to the file's last forecast day
    (:func:`forecasting.text.launch.launch_metrics`: WAPE of launch totals, daily RMSSE,
    P10-P90 coverage).
    """
    from forecasting.text.launch import launch_metrics

    launches = pd.read_csv(launches_csv, dtype={"sku": str})
    rows = pd.read_csv(future_csv, dtype={"sku": str})
    rows = rows.loc[rows["sku"].isin(launches["sku"])]
    truth = pd.read_csv(truth_csv, dtype={"sku": str})
    frame = rows.merge(truth, on=["sku", "date"], how="left").fillna({"y": 0.0})
    start = launches.set_index("sku")["launch_date"].reindex(frame["sku"]).to_numpy()
    frame = frame.loc[frame["date"].to_numpy() >= start]
    return launch_metrics(frame)
