"""Small helpers the demand pipeline's steps share: panels, skips, the backtests' winner."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from forecasting.artifacts import (
    BACKTEST_CANDIDATES,
    BACKTEST_STATS,
    FEATURES_CATALOGUE,
    FEATURES_PANEL,
    FEATURES_TEXT_MODEL,
)
from forecasting.config import PipelineConfig
from forecasting.pipelines.demand.handoffs import Backtested, Checked, Features
from forecasting.storage import Storage, read_json, read_parquet

if TYPE_CHECKING:
    from forecasting.features import Panel
    from forecasting.text import TextEmbedding

__all__ = ["backtest_summary", "catalogue_winner", "load_panel", "load_text", "skip_reason"]

log = logging.getLogger(__name__)


def load_panel(storage: Storage, features_uri: str) -> Panel:
    """The panel ``build_features`` saved below ``features_uri``."""
    from forecasting.features import Panel
    from forecasting.storage import download_dir

    with tempfile.TemporaryDirectory() as tmp:
        local = download_dir(
            storage.open(features_uri) / FEATURES_PANEL, Path(tmp) / FEATURES_PANEL
        )
        return Panel.load(local)


def load_text(storage: Storage, features: Features) -> tuple[pd.DataFrame, TextEmbedding] | None:
    """The shard's products with their text and the run's text model, both saved by
    ``build_features``; ``None`` for features built without them (an earlier version's)."""
    from forecasting.extraction.assemble import shard_products
    from forecasting.text import TextEmbedding

    folder = storage.open(features.uri)
    if not (folder / FEATURES_TEXT_MODEL).exists() or not (folder / FEATURES_CATALOGUE).exists():
        log.warning("features %s have no text model: no cold-start forecasts", features.uri)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / FEATURES_TEXT_MODEL
        local.write_bytes((folder / FEATURES_TEXT_MODEL).read_bytes())
        embedding = TextEmbedding.load(local)
    products = shard_products(read_parquet(folder / FEATURES_CATALOGUE), features.shard)
    return products.reset_index(drop=True), embedding


def skip_reason(features: Features, checked: Checked, what: str) -> str | None:
    """Why a training step skips the shard (no training today, or no series), else ``None``."""
    if not checked.decision.train:
        log.info("%s skipped: %s", what, checked.decision.reason)
        return checked.decision.reason
    if not features.series:
        return "the shard has no series"
    return None


def backtest_summary(
    storage: Storage, backtests: list[Backtested]
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Every shard's statistics, and per candidate the summed seconds and non-finite rows."""
    done = [b for b in backtests if not b.skipped]
    stats = pd.concat(
        [read_parquet(storage.open(b.uri) / BACKTEST_STATS) for b in done], ignore_index=True
    )
    info: dict[str, dict[str, Any]] = {}
    for b in done:
        for label, c in read_json(storage.open(b.uri) / BACKTEST_CANDIDATES).items():
            entry = info.setdefault(label, {"seconds": 0.0, "nonfinite": 0, "peak_memory_mb": 0.0})
            entry["seconds"] += float(c["seconds"])
            entry["nonfinite"] += int(c["nonfinite"])
            entry["peak_memory_mb"] = max(entry["peak_memory_mb"], float(c["peak_memory_mb"] or 0))
    return stats, info


def catalogue_winner(
    storage: Storage, backtests: list[Backtested], config: PipelineConfig
) -> tuple[str, dict[str, dict[str, float]], pd.DataFrame, dict[str, dict[str, Any]]]:
    """The candidate with the best catalogue-level backtest (every shard computes the same
    choice from the same statistics), every candidate's metrics, windows and run facts."""
    from forecasting.training import pick_winner
    from forecasting.training.shard import catalogue_metrics

    stats, info = backtest_summary(storage, backtests)
    metrics, windows = catalogue_metrics(stats)
    disqualified = frozenset(k for k, v in info.items() if v["nonfinite"])
    winner = pick_winner(metrics, config.primary_metric, config.models, disqualified)
    return winner, metrics, windows, info
