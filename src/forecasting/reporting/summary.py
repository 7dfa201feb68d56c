"""Human-readable summary of one run date (what ``make demo`` prints)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

from forecasting.config import EXPERIMENT_NAME, REGISTERED_MODEL_NAME, Settings
from forecasting.storage import Storage, read_json

__all__ = ["committed_shards", "run_summary", "validation_reports"]


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _extract_lines(storage: Storage, run_day: date) -> list[str]:
    folder = storage.stage_dir(run_day, "extract")
    manifests = [
        read_json(c / "manifest.json") for c in committed_shards(storage, run_day, "extract")
    ]
    if not manifests:
        return [f"Extract:     none below {folder}"]
    w = manifests[0]["window"]
    rows = sum(m["rows"] for m in manifests)
    series = sum(m["series"] for m in manifests)
    outliers = sum(int(m.get("cleaning", {}).get("outlier_days", 0)) for m in manifests)
    return [
        f"Extract:     {rows:,} rows, {series:,} series (SKU x location) in {len(manifests)} "
        f"shard(s), {w['start']} .. {w['end']} (exclusive); {outliers} outlier day(s) excluded"
        f" -> {folder}"
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
        read_json(c / "validation.json") for c in committed_shards(storage, run_day, "validate")
    ]
    check = storage.committed(run_day, "check")
    if check is not None and (check / "validation.json").exists():
        reports.append(read_json(check / "validation.json"))
    return reports


def _validation_lines(storage: Storage, run_day: date) -> list[str]:
    lines = []
    reports = validation_reports(storage, run_day)
    if not reports:
        return ["Validation:  no report"]
    findings = [f for r in reports for f in r["findings"]]
    failed = [f for f in findings if not f["success"] and f.get("blocking", True)]
    warned = [f for f in findings if not f["success"] and not f.get("blocking", True)]
    verdict = "PASSED" if not failed else f"FAILED ({len(failed)} rules)"
    lines.append(
        f"Validation:  {verdict}: {len(findings)} rules (Great Expectations and catalogue checks)"
        + (f", {len(warned)} warning(s)" if warned else "")
        + f" -> {storage.stage_dir(run_day, 'validate')}"
    )
    lines += [f"             failed: {f['expectation']} on {f.get('table')}" for f in failed]
    return lines


def _planner_lines(settings: Settings, storage: Storage, run_day: date) -> list[str]:
    """Lead-time rows, the monitoring verdict and where the planner report is."""
    from forecasting.db import make_engine
    from forecasting.publishing import read_leadtime

    lines = []
    leadtime = read_leadtime(make_engine(settings.warehouse_url), run_day)
    if len(leadtime):
        lines.append(
            f"Lead time:   {len(leadtime):,} rows in demand_forecast_leadtime "
            f"(P50..P99 of total demand over {', '.join(map(str, sorted(set(leadtime['days']))))} days)"
        )
    monitor = storage.committed(run_day, "monitor")
    if monitor is not None:
        verdict = read_json(monitor / "verdict.json")
        if not verdict:
            lines.append("Monitoring:  no champion yet: nothing to judge")
        else:
            live = verdict["live"]
            numbers = (
                f"live over {verdict['live_days']} target day(s): RMSSE {live['rmsse']:.3f} "
                f"(backtest {verdict['backtest_rmsse'] or float('nan'):.3f}), WAPE "
                f"{live['wape']:.3f}, P10-P90 coverage {live['coverage']:.3f}; "
                if verdict["live_days"]
                else ""
            )
            lines.append(f"Monitoring:  {numbers}{verdict['reason']}")
    report = storage.committed(run_day, "report")
    if report is not None:
        lines.append(f"Report:      {report / 'report.html'}")
    return lines


def run_summary(run_day: date, settings: Settings) -> str:
    """Summarise a date's run from storage, MLflow and the warehouse.

    Lists rows extracted, the validation result, the training decision, every candidate's
    backtest metrics, the promotion decision and the ``@champion`` version, rows
    published, and where the MLflow store is with the command that opens its UI.
    """
    import mlflow

    from forecasting.db import make_engine
    from forecasting.publishing import read_published
    from forecasting.registry.models import get_champion
    from forecasting.registry.tracking import configure_mlflow

    storage = Storage.from_uri(settings.storage_uri)
    lines = [f"Demand forecast run for {run_day.isoformat()}", ""]
    lines += _extract_lines(storage, run_day)
    lines += _validation_lines(storage, run_day)

    experiment_id = configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    client = mlflow.MlflowClient()
    runs = client.search_runs(
        [experiment_id],
        f"tags.logical_date = '{run_day.isoformat()}' and tags.`forecasting.complete` = 'true'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if runs:
        run = runs[0]
        tags = run.data.tags
        lines.append(
            f"Training:    {tags.get('training.decision', '?')}: {tags.get('training.reason', '')}"
        )
        children = client.search_runs(
            [experiment_id], f"tags.`mlflow.parentRunId` = '{run.info.run_id}'", max_results=100
        )
        if children:
            cols = ("rmsse", "mase", "wape", "bias", "spl", "coverage")
            lines += [
                "",
                f"Backtest ({run.data.params.get('config.n_windows', '?')} windows of "
                f"{run.data.params.get('config.horizon', '?')} days, all shards), MLflow run "
                f"{run.info.run_id}:",
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
            lines.append(f"Candidate:   {tags.get('candidate.name')}")
        if tags.get("promotion.reason"):
            lines.append(f"Promotion:   {tags['promotion.reason']}")
        lines.append(
            f"Serving:     version {tags.get('serving_version') or 'none'} scored this day"
        )
    else:
        lines.append("Training:    no finished MLflow run for this date")
    champion = get_champion(REGISTERED_MODEL_NAME)
    lines.append(
        f"Champion:    {REGISTERED_MODEL_NAME}@champion = "
        + (f"version {champion.version} ({champion.candidate})" if champion else "none")
    )
    try:
        forecasts, published = read_published(make_engine(settings.warehouse_url), run_day)
    except Exception as exc:  # the warehouse may be unreachable; say so, do not fail
        lines.append(f"Published:   could not read the warehouse: {type(exc).__name__}")
    else:
        if len(published):
            row = published.iloc[0]
            lines.append(
                f"Published:   {len(forecasts):,} rows in demand_forecast (model {row['model_name']} "
                f"v{row['model_version']}, {row['series_count']} series x {row['horizon_days']} days)"
            )
        else:
            lines.append("Published:   nothing for this date")
        lines += _planner_lines(settings, storage, run_day)
    store = settings.tracking_uri
    venv_mlflow = Path(sys.executable).with_name("mlflow")
    mlflow_cmd = str(venv_mlflow) if venv_mlflow.exists() else "mlflow"
    lines += [
        "",
        f"MLflow store: {store}  (artifacts: {settings.artifact_root})",
        f"Open the UI:  {mlflow_cmd} ui --backend-store-uri {store} --port 5000   "
        "then http://127.0.0.1:5000",
        f"Storage:      {settings.storage_uri}",
    ]
    return "\n".join(lines)
