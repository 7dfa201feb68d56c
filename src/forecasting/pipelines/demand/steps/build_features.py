"""Step ``build_features`` (per shard): the panel every model's features come from."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from forecasting.artifacts import FEATURES_MANIFEST, FEATURES_PANEL
from forecasting.extraction import read_partition
from forecasting.pipelines.demand.handoffs import Features, Validated
from forecasting.resources import Resources
from forecasting.storage import write_json

__all__ = ["build_features_step"]


def build_features_step(run_day: date, validated: Validated, resources: Resources) -> Features:
    """*Per shard*: the panel every model's declared features are computed from.

    Args:
        run_day: The run's day.
        validated: The shard's validated extract.
        resources: The task's storage.

    Returns:
        The features folder, the shard, its ``series`` and (with series) its
        ``history_days`` and ``future_days``.
    """
    from forecasting.features import FeatureSpec, Panel
    from forecasting.storage import upload_dir

    storage, part = resources.storage, validated.shard
    extract, manifest = read_partition(storage.open(validated.extract_uri))
    spec = FeatureSpec()
    info: dict[str, Any] = {
        "shard": part.to_dict(),
        "series": int(extract.history["unique_id"].nunique()),
    }
    with storage.write_stage(run_day, "features", part.name) as folder:
        if info["series"]:
            panel = Panel.from_long(extract.history, extract.future, extract.events)
            with tempfile.TemporaryDirectory() as tmp:
                upload_dir(panel.save(Path(tmp) / FEATURES_PANEL), folder / FEATURES_PANEL)
            info.update(
                history_days=panel.n_history, future_days=len(panel.dates) - panel.n_history
            )
        write_json(
            folder / FEATURES_MANIFEST,
            {
                "spec": spec.to_dict(),
                "names": spec.feature_names(),
                "window": manifest["window"],
                **info,
            },
        )
    return Features.from_dict({"uri": storage.uri(folder), **info})
