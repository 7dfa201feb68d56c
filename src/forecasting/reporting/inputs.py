"""What the report and the summary read: a run date's stages in storage and its MLflow run."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecasting.artifacts import (
    FEATURES_PANEL,
    MONITOR_VERDICT,
    SCORES_LAUNCHES,
    VALIDATION_REPORT,
)
from forecasting.storage import Storage, download_dir, read_json, read_parquet

if TYPE_CHECKING:
    from forecasting.registry.runs import DateRun
    from forecasting.resources import Resources

__all__ = [
    "committed_shards",
    "date_run_of",
    "launches",
    "monitor_verdict",
    "plot_history",
    "validation_findings",
    "validation_reports",
]


def committed_shards(storage: Storage, run_day: date, stage: str) -> list[Any]:
    """The committed attempt folder of every shard of a run date's stage, in shard order."""
    folder = storage.stage_dir(run_day, stage)
    if not folder.exists():
        return []
    found = []
    for shard in sorted(p for p in folder.iterdir() if p.name.startswith("shard=")):
        committed = storage.committed(run_day, stage, shard.name)
        if committed is not None:
            found.append(committed)
    return found


def validation_reports(storage: Storage, run_day: date) -> list[dict[str, Any]]:
    """Every shard's GX report and the catalogue checks' report of a run date."""
    reports = [
        read_json(c / VALIDATION_REPORT) for c in committed_shards(storage, run_day, "validate")
    ]
    check = storage.committed(run_day, "check")
    if check is not None and (check / VALIDATION_REPORT).exists():
        reports.append(read_json(check / VALIDATION_REPORT))
    return reports


def date_run_of(resources: Resources, run_day: date) -> tuple[str, DateRun | None]:
    """The experiment id and the date's run (:func:`~forecasting.registry.runs.date_run`:
    finished and complete), asked through the task's MLflow client."""
    from forecasting.registry.runs import date_run
    from forecasting.registry.tracking import configure_mlflow

    settings = resources.settings
    experiment_id = configure_mlflow(
        settings.tracking_uri, settings.artifact_root, resources.experiment
    )
    return experiment_id, date_run(experiment_id, run_day, resources.tracker)


def launches(storage: Storage, run_day: date) -> pd.DataFrame:
    """The new products a run date forecast from the launch curves, every shard's
    (:func:`forecasting.scoring.cold_start.launch_summary`), the earliest launch first."""
    parts = [
        read_parquet(c / SCORES_LAUNCHES)
        for c in committed_shards(storage, run_day, "scores")
        if (c / SCORES_LAUNCHES).exists()
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["sku", "name", "location_id", "forecast", "neighbours"])
    frame = pd.concat(parts, ignore_index=True)
    frame["launched_on"] = pd.to_datetime(frame["launched_on"]).dt.date
    return frame.sort_values(["launched_on", "sku", "location_id"], ignore_index=True)


def monitor_verdict(storage: Storage, run_day: date) -> dict[str, Any] | None:
    """The monitoring verdict of a run date (``{}`` when there was no champion to judge),
    or ``None`` if its ``monitor`` stage has none."""
    monitor = storage.committed(run_day, "monitor")
    if monitor is None or not (monitor / MONITOR_VERDICT).exists():
        return None
    verdict: dict[str, Any] = read_json(monitor / MONITOR_VERDICT)
    return verdict


def validation_findings(storage: Storage, run_day: date) -> pd.DataFrame:
    """Validation findings of a run date, one row per rule, table and result (unexpected
    counts summed over shards): failed rules first, then warnings, then passed.

    Returns:
        Columns ``rule``, ``table``, ``result`` (``FAILED``, ``warning`` or ``passed``) and
        ``unexpected``.
    """
    rows = [
        {
            "rule": f["expectation"],
            "table": str(f.get("table", "")),
            "result": "passed"
            if f["success"]
            else ("FAILED" if f.get("blocking", True) else "warning"),
            "unexpected": int(f.get("unexpected_count") or 0),
        }
        for r in validation_reports(storage, run_day)
        for f in r["findings"]
    ]
    frame = pd.DataFrame(rows, columns=["rule", "table", "result", "unexpected"])
    if frame.empty:
        return frame
    return (
        frame.groupby(["rule", "table", "result"], as_index=False)["unexpected"]
        .sum()
        .sort_values(
            ["result", "rule"],
            key=lambda s: s.map({"FAILED": 0, "warning": 1}).fillna(2) if s.name == "result" else s,
        )
        .reset_index(drop=True)
    )


def plot_history(storage: Storage, run_day: date, keys: pd.DataFrame, days: int) -> pd.DataFrame:
    """Actuals of the last ``days`` days of the given series, from the run's features
    partitions.

    Args:
        storage: Where the run's stages are.
        run_day: The run date.
        keys: Series to read (columns ``sku`` and ``location_id``).
        days: Days of history before the forecast.

    Returns:
        Columns ``unique_id`` (``<sku>@<location_id>``), ``ds`` and ``y``.
    """
    from forecasting.features import Panel

    wanted = set(keys["sku"] + "@" + keys["location_id"])
    parts = []
    for committed in committed_shards(storage, run_day, "features"):
        if not (committed / FEATURES_PANEL).exists():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            panel = Panel.load(download_dir(committed / FEATURES_PANEL, Path(tmp) / FEATURES_PANEL))
        rows = np.flatnonzero(panel.ids["unique_id"].isin(wanted).to_numpy())
        if not len(rows):
            continue
        first = max(panel.n_history - days, 0)
        dates = panel.dates[first : panel.n_history]
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": np.repeat(panel.ids["unique_id"].to_numpy()[rows], len(dates)),
                    "ds": np.tile(dates.to_numpy(), len(rows)),
                    "y": panel.y[rows, first : panel.n_history].ravel(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["unique_id", "ds", "y"])
    return pd.concat(parts, ignore_index=True)
