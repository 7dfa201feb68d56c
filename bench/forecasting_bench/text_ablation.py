"""Does what the text says help the demand models? Backtests with and without text.

``python -m forecasting_bench.text_ablation online-retail --data-dir ../shared/data``

1. loads the dataset as the benchmark does (:func:`forecasting_bench.datasets.load_dataset`:
   our importer into a SQLite shop, our extraction, the panel), reads the catalogue from
   the shop database it wrote (``<work>/shop.db``, table ``products``), fits the text
   embedding on it and attaches text to the panel
   (:func:`forecasting.features.text.attach_text`), timing both;
2. backtests the candidates (``--models``) once per variant (``--variants``): ``base``
   (no text), ``text<d>`` (the first ``d`` embedding components as static features),
   ``nb<k>`` (pooled demand of the ``k`` nearest text neighbours), or a ``+`` of them,
   with the pipeline's own backtest (:func:`forecasting.training.shard.backtest_shard`,
   what :func:`forecasting_bench.harness.backtest_catalogue` runs per shard; one shard
   here, so the per-window statistics stay at hand);
3. prints and writes (``text_ablation.csv``) the metrics of every variant and candidate on
   the first ``--tune-windows`` scored windows (where choices are tuned) and on the rest
   (reported, untouched by tuning);
4. with ``--measure VARIANT`` instead, only the time and peak memory of what the variant
   adds to a run: fitting the embedding and attaching it, and building the training rows
   of ``hgb`` (measure ``base`` and a text variant in separate processes).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.config import PipelineConfig
from forecasting.evaluation.metrics import metrics_from_stats
from forecasting.features.direct import training_rows
from forecasting.features.panel import Panel
from forecasting.features.spec import FeatureSpec
from forecasting.features.text import attach_text
from forecasting.names import MODEL_NAMES
from forecasting.profiling import PeakMemory
from forecasting.text import TextEmbedding
from forecasting.training.shard import backtest_shard
from forecasting_bench.datasets import ACTIVE_DAYS, DATASETS, HORIZON, load_dataset

__all__ = [
    "SYNTHETIC",
    "catalogue_of",
    "main",
    "measure_costs",
    "run_ablation",
    "synthetic_panel",
    "variant_features",
]

log = logging.getLogger(__name__)

_METRICS = ("rmsse", "wape", "mase", "spl", "coverage")


def variant_features(variant: str) -> dict[str, Any]:
    """The :class:`FeatureSpec` overrides of a variant name.

    Args:
        variant: ``base``, ``text<d>``, ``nb<k>``, ``reviews`` or several joined by ``+``
            (``text8+nb10``).

    Raises:
        ValueError: For an unknown part.
    """
    features: dict[str, Any] = {}
    for part in variant.split("+"):
        if part == "base":
            continue
        if part.startswith("text") and part[4:].isdigit():
            features.update(text=True, text_dimensions=int(part[4:]))
        elif part.startswith("nb") and part[2:].isdigit():
            features["text_neighbours"] = int(part[2:])
        elif part == "reviews":
            features["reviews"] = True
        else:
            raise ValueError(f"unknown variant part {part!r}: use base, text<d>, nb<k>, reviews")
    FeatureSpec(**features)  # validates the values
    return features


def catalogue_of(work_dir: Path) -> pd.DataFrame:
    """The ``products`` table of the shop database :func:`load_dataset` wrote."""
    from forecasting.db import make_engine

    engine = make_engine(f"sqlite:///{work_dir / 'shop.db'}")
    with engine.connect() as connection:
        return pd.read_sql_table("products", connection)


#: The synthetic shop with reviews (``forecasting.sources.synthetic.generate_shop``).
SYNTHETIC = "synthetic"


def synthetic_panel(work_dir: Path, n_skus: int, seed: int = 7) -> Panel:
    """A synthetic shop with reviews, imported and extracted like the real datasets, with
    its reviews attached (sentiment fitted on all of them) and the catalogue in
    ``<work_dir>/shop.db``. ``n_skus`` products at 3 locations over 730 days.
    """
    from forecasting.db import make_engine
    from forecasting.extraction import ExtractWindow, extract_all
    from forecasting.features.text import attach_reviews
    from forecasting.sources import load_shop
    from forecasting.sources.synthetic import generate_shop
    from forecasting.storage import Storage
    from forecasting.text.reviews import daily_reviews
    from forecasting.text.sentiment import SentimentModel

    shop = generate_shop(n_skus=n_skus, n_locations=3, days=730, seed=seed)
    engine = make_engine(f"sqlite:///{work_dir / 'shop.db'}")
    load_shop(engine, shop, loaded_by="benchmark")
    last = pd.Timestamp(shop.orders["ordered_at"].max()).date()
    window = ExtractWindow.for_logical_date(last, 730, HORIZON)
    storage = Storage.from_uri((work_dir / "storage").as_uri())
    extract = extract_all(engine, window, storage.root, full_refresh=True)
    panel = Panel.from_long(extract.history, extract.future, extract.events)
    reviews = extract.reviews
    daily = daily_reviews(reviews, SentimentModel().fit(reviews))
    log.info("synthetic: %d series, %d reviews", panel.n_series, len(reviews))
    return attach_reviews(panel, daily)


def measure_costs(panel: Panel, catalogue: pd.DataFrame, variant: str) -> list[str]:
    """Time and peak memory of what ``variant`` adds to a run, in this process.

    For a text variant: fitting the text model on ``catalogue`` and attaching it to
    ``panel``; then, for every variant, building the training rows of ``hgb`` (the
    default 1,000,000-row cap of :func:`training_rows`). Run each variant in a fresh
    process (``--measure``), so that one's freed memory does not hide the next one's.
    """
    lines = []
    if variant != "base":
        with PeakMemory() as memory:
            start = time.perf_counter()
            embedding = TextEmbedding.fit(catalogue)
            fitted = time.perf_counter() - start
            panel = attach_text(panel, embedding)
            attached = time.perf_counter() - start - fitted
        lines.append(
            f"text model: fit {fitted:.2f}s on {len(catalogue)} products "
            f"({embedding.dimensions} dimensions), attach {attached:.2f}s on "
            f"{panel.n_series} series; peak memory +{memory.peak_mb:.0f} MiB"
        )
    spec = FeatureSpec(**variant_features(variant))
    with PeakMemory() as memory:
        start = time.perf_counter()
        fm, _ = training_rows(panel, HORIZON, spec, active_days=ACTIVE_DAYS)
        seconds = time.perf_counter() - start
    lines.append(
        f"training rows {variant}: {fm.X.shape[0]} rows x {fm.X.shape[1]} features in "
        f"{seconds:.2f}s; peak memory +{memory.peak_mb:.0f} MiB"
    )
    return lines


def run_ablation(
    dataset: str,
    *,
    data_dir: str | Path,
    variants: tuple[str, ...],
    models: tuple[str, ...] = ("hgb",),
    windows: int = 6,
    tune_windows: int = 3,
    max_series: int | None = None,
    output_dir: str | Path | None = None,
    measure: str | None = None,
    max_rows: int | None = None,
) -> pd.DataFrame:
    """Backtest every variant and return the metrics table (see module docstring).

    ``measure``: a variant whose costs :func:`measure_costs` prints instead of any
    backtest. ``max_rows`` caps every candidate's training rows (the same for every variant: a
    cheaper, still fair, comparison on 2 cores); ``None`` keeps the models' defaults.

    Returns:
        One row per variant, model and split (``tune``: the first ``tune_windows`` scored
        windows, ``report``: the others, ``all``) with :data:`_METRICS` and ``seconds``.
    """
    from forecasting.config import Settings

    if dataset not in (*DATASETS, SYNTHETIC):
        raise ValueError(f"unknown dataset {dataset!r}; choose from {sorted(DATASETS)}")
    work = Path(output_dir) if output_dir else Settings.from_env().data_dir / "bench" / dataset
    work.mkdir(parents=True, exist_ok=True)
    if dataset == SYNTHETIC:
        panel = synthetic_panel(work, max_series or 300)
    else:
        panel = load_dataset(dataset, data_dir, work, max_series)
    catalogue = catalogue_of(work)
    if measure:
        lines = measure_costs(panel, catalogue, measure)
        print("\n".join(lines))
        return pd.DataFrame({"measure": lines})
    start = time.perf_counter()
    embedding = TextEmbedding.fit(catalogue)
    panel = attach_text(panel, embedding)
    log.info("text model fitted and attached in %.1fs", time.perf_counter() - start)
    rows = []
    for variant in variants:
        features = variant_features(variant)
        config = PipelineConfig(
            horizon=HORIZON,
            n_windows=windows,
            active_days=ACTIVE_DAYS,
            models=models,
            # Every direct model (the ensemble's members included) gets the variant.
            model_params={
                m: {"features": features, **({"max_rows": max_rows} if max_rows else {})}
                for m in MODEL_NAMES
                if m not in ("seasonal_naive", "ensemble")
            },
        )
        result = backtest_shard(panel, config)
        scored = sorted(result.stats["window"].unique())
        splits = {
            "tune": scored[:tune_windows],
            "report": scored[tune_windows:],
            "all": scored,
        }
        for label, part in result.stats.groupby("candidate", sort=False):
            for split, chosen in splits.items():
                if not chosen:
                    continue
                metrics = metrics_from_stats(part.loc[part["window"].isin(chosen)])
                rows.append(
                    {
                        "variant": variant,
                        "model": label,
                        "split": split,
                        **{m: metrics[m] for m in _METRICS},
                        "seconds": result.candidates[str(label)]["seconds"],
                    }
                )
        log.info("variant %s done", variant)
        table = pd.DataFrame(rows)
        table.to_csv(work / "text_ablation.csv", index=False)
        print(_format(table.loc[table["variant"] == variant]), flush=True)
    table = pd.DataFrame(rows)
    text = f"{dataset}: {panel.n_series} series, {windows} windows\n" + _format(table)
    (work / "text_ablation.txt").write_text(text + "\n")
    print(text)
    return table


def _format(table: pd.DataFrame) -> str:
    header = f"{'variant':<16}{'model':<16}{'split':<8}" + "".join(
        f"{c:>10}" for c in (*_METRICS, "seconds")
    )
    lines = [header]
    for _, row in table.iterrows():
        cells = "".join(f"{row[c]:>10.4f}" for c in _METRICS) + f"{row['seconds']:>10.1f}"
        lines.append(f"{row['variant']:<16}{row['model']:<16}{row['split']:<8}{cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m forecasting_bench.text_ablation DATASET --data-dir DIR``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=[*sorted(DATASETS), SYNTHETIC])
    parser.add_argument("--data-dir", default="", help="the real datasets' folder")
    parser.add_argument("--variants", default="base,text8,nb10,text8+nb10")
    parser.add_argument("--models", default="hgb")
    parser.add_argument("--windows", type=int, default=6)
    parser.add_argument("--tune-windows", type=int, default=3)
    parser.add_argument("--max-series", type=int)
    parser.add_argument("--output-dir")
    parser.add_argument(
        "--measure", metavar="VARIANT", help="only measure what VARIANT costs (no backtest)"
    )
    parser.add_argument("--max-rows", type=int, help="training-row cap of every candidate")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_ablation(
        args.dataset,
        data_dir=args.data_dir,
        variants=tuple(v for v in args.variants.split(",") if v),
        models=tuple(m for m in args.models.split(",") if m),
        windows=args.windows,
        tune_windows=args.tune_windows,
        max_series=args.max_series,
        output_dir=args.output_dir,
        measure=args.measure,
        max_rows=args.max_rows,
    )


if __name__ == "__main__":
    main()
