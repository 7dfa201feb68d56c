"""Human-readable summary of one logical date's run (what ``make demo`` prints)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from forecasting.config import EXPERIMENT_NAME, REGISTERED_MODEL_NAME, Settings
from forecasting.storage import partition_dir

__all__ = ["run_summary"]


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def run_summary(logical_date: date, settings: Settings) -> str:
    """Summarise a date's run from its partition, MLflow and the warehouse.

    Lists rows extracted, the validation result, every candidate's backtest metrics, the
    promotion decision and the ``@champion`` version, rows published, and where the MLflow
    store is with the command that opens its UI.
    """
    import mlflow

    from forecasting.db import make_engine
    from forecasting.publishing import read_published
    from forecasting.registry.models import get_champion
    from forecasting.registry.tracking import configure_mlflow

    lines = [f"Demand forecast run for {logical_date.isoformat()}", ""]
    extract = partition_dir(settings.partitions_dir, logical_date, "extract")
    manifest_path = extract / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        w = manifest["window"]
        lines.append(
            f"Extract:     {manifest['rows']:,} rows, {manifest['series']:,} series (SKU x location), "
            f"{w['start']} .. {w['end']} (exclusive) -> {extract}"
        )
    else:
        lines.append(f"Extract:     none at {extract}")
    report_path = extract / "validation.json"
    if report_path.exists():
        report = json.loads(report_path.read_text())
        failed = [f for f in report["findings"] if not f["success"]]
        verdict = "PASSED" if report["success"] else f"FAILED ({len(failed)} expectations)"
        lines.append(
            f"Validation:  {verdict}: {len(report['findings'])} Great Expectations rules -> {report_path}"
        )
        lines += [f"             failed: {f['expectation']} {f['kwargs']}" for f in failed]

    experiment_id = configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    client = mlflow.MlflowClient()
    runs = client.search_runs(
        [experiment_id],
        f"tags.logical_date = '{logical_date.isoformat()}' and tags.`forecasting.complete` = 'true'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if runs:
        run = runs[0]
        children = client.search_runs(
            [experiment_id], f"tags.`mlflow.parentRunId` = '{run.info.run_id}'", max_results=100
        )
        cols = ("rmsse", "mase", "wape", "bias", "spl", "coverage")
        lines += [
            "",
            f"Backtest ({run.data.params.get('config.n_windows', '?')} windows of "
            f"{run.data.params.get('config.horizon', '?')} days), MLflow run {run.info.run_id}:",
        ]
        lines.append(f"  {'model':<24}" + "".join(f"{c:>10}" for c in cols))
        for child in sorted(
            children, key=lambda r: r.data.metrics.get("backtest_rmsse", float("inf"))
        ):
            m = child.data.metrics
            lines.append(
                f"  {child.data.tags.get('candidate.name', child.info.run_name):<24}"
                + "".join(f"{_fmt(m.get('backtest_' + c, float('nan'))):>10}" for c in cols)
            )
        tags = run.data.tags
        lines.append(
            f"Candidate:   {tags.get('candidate.name')} ({tags.get('promotion.decision', 'not registered yet')})"
        )
        if tags.get("promotion.reason"):
            lines.append(f"Promotion:   {tags['promotion.reason']}")
    else:
        lines.append("Training:    no finished MLflow run for this date")
    champion = get_champion(REGISTERED_MODEL_NAME)
    lines.append(
        f"Champion:    {REGISTERED_MODEL_NAME}@champion = "
        + (f"version {champion.version} ({champion.candidate})" if champion else "none")
    )
    try:
        forecasts, published = read_published(make_engine(settings.warehouse_url), logical_date)
    except Exception as exc:  # the warehouse may be unreachable; say so, do not fail
        lines.append(f"Published:   could not read the warehouse: {exc}")
    else:
        if len(published):
            row = published.iloc[0]
            lines.append(
                f"Published:   {len(forecasts):,} rows in demand_forecast (model {row['model_name']} "
                f"v{row['model_version']}, {row['series_count']} series x {row['horizon_days']} days)"
            )
        else:
            lines.append("Published:   nothing for this date")
    store = settings.tracking_uri
    venv_mlflow = Path(sys.executable).with_name("mlflow")
    mlflow_cmd = str(venv_mlflow) if venv_mlflow.exists() else "mlflow"
    lines += [
        "",
        f"MLflow store: {store}  (artifacts: {settings.artifact_root})",
        f"Open the UI:  {mlflow_cmd} ui --backend-store-uri {store} --port 5000   "
        "then http://127.0.0.1:5000",
    ]
    if Path(settings.data_dir).exists():
        lines.append(f"Data folder:  {settings.data_dir}")
    return "\n".join(lines)
