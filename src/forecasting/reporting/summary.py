"""Human-readable summary of one run date (what ``make demo`` prints)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from forecasting.artifacts import EXTRACT_MANIFEST
from forecasting.config import REGISTERED_MODEL_NAME, Settings
from forecasting.reporting.inputs import (
    committed_shards,
    date_run_of,
    launches,
    monitor_verdict,
    validation_reports,
)
from forecasting.reporting.planner import REPORT_ARTIFACT
from forecasting.resources import Resources
from forecasting.storage import Storage, read_json

__all__ = ["run_summary"]


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _extract_lines(storage: Storage, run_day: date) -> list[str]:
    folder = storage.stage_dir(run_day, "extract")
    manifests = [
        read_json(c / EXTRACT_MANIFEST) for c in committed_shards(storage, run_day, "extract")
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


def _planner_lines(resources: Resources, run_day: date) -> list[str]:
    """Lead-time rows, the monitoring verdict and where the planner report is."""
    from forecasting.publishing import read_leadtime

    storage = resources.storage
    lines = []
    leadtime = read_leadtime(resources.warehouse, run_day)
    if len(leadtime):
        lines.append(
            f"Lead time:   {len(leadtime):,} rows in demand_forecast_leadtime "
            f"(P50..P99 of total demand over {', '.join(map(str, sorted(set(leadtime['days']))))} days)"
        )
    lines += _explained_lines(resources, run_day)
    lines += _unmet_lines(resources, run_day)
    verdict = monitor_verdict(storage, run_day)
    if verdict is not None and not verdict:
        lines.append("Monitoring:  no champion yet: nothing to judge")
    elif verdict:
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
        lines.append(f"Report:      {report / REPORT_ARTIFACT}")
    return lines


def _explained_lines(resources: Resources, run_day: date, shown: int = 2) -> list[str]:
    """Why the largest changes since the previous run happened, and what to order (nothing
    without the tables or their rows)."""
    from forecasting.explain import describe_drivers
    from forecasting.reporting.warehouse import (
        forecast_changes,
        order_suggestions,
        product_names,
    )

    engine = resources.warehouse
    lines = []
    changes = forecast_changes(engine, run_day)
    if changes is not None and len(changes):
        names = product_names(engine)
        since = str(changes["previous_run_date"].iloc[0])[:10]
        moved = changes.groupby(["sku", "location_id"])["contribution"].sum()
        top = moved.abs().sort_values(ascending=False).index[:shown]
        keyed = changes.set_index(["sku", "location_id"])
        lines.append(f"Why:         the largest changes since {since} (demand_forecast_changes)")
        for key in top:
            rows = keyed.loc[[key]].reset_index()
            lines.append(f"{'':<13}{describe_drivers(rows, names)}")
    suggestions = order_suggestions(engine, run_day)
    if suggestions is not None and len(suggestions):
        lines.append(
            f"Orders:      {len(suggestions):,} series to order today, "
            f"{suggestions['suggested_qty'].astype(float).sum():,.0f} units "
            "(replenishment_suggestions; approve or edit them in the planner app)"
        )
    return lines


def _unmet_lines(resources: Resources, run_day: date, shown: int = 3) -> list[str]:
    """The most searched queries that find nothing or convert nothing (none without a
    ``search_demand`` table)."""
    from forecasting.reporting.warehouse import UNMET_DAYS, unmet_searches

    found = unmet_searches(resources.warehouse, run_day, shown)
    if found is None:
        return []
    window = f"the {UNMET_DAYS} days to {run_day}"
    if found.empty:
        return [f"Unmet demand: no query of {window} in search_demand matched nothing or "
                "converted nothing"]  # fmt: skip
    top = "; ".join(
        f"{str(r.query)[:40]!r} {int(r.searches):,} searches ({r.why})"
        for r in found.itertuples(index=False)
    )
    return [f"Unmet demand: most searched of {window} that find or convert nothing: {top} "
            "(the report's Unmet demand section)"]  # fmt: skip


def _training_lines(resources: Resources, run_day: date) -> list[str]:
    """The date's run (finished and complete): training decision, every candidate's
    backtest metrics, the candidate, promotion and the version that scored."""
    from forecasting.registry.runs import candidate_runs

    experiment_id, run = date_run_of(resources, run_day)
    if run is None:
        return ["Training:    no finished MLflow run for this date"]
    tags = run.tags
    lines = [
        f"Training:    {tags.get('training.decision', '?')}: {tags.get('training.reason', '')}"
    ]
    candidates = candidate_runs(experiment_id, run.run_id, resources.tracker)
    if candidates:
        cols = ("rmsse", "mase", "wape", "bias", "spl", "coverage")
        lines += [
            "",
            f"Backtest ({run.params.get('config.n_windows', '?')} windows of "
            f"{run.params.get('config.horizon', '?')} days, all shards), MLflow run "
            f"{run.run_id}:",
            f"  {'model':<24}" + "".join(f"{c:>10}" for c in cols),
        ]
        for candidate in sorted(
            candidates, key=lambda c: c.metrics.get("backtest_rmsse", float("inf"))
        ):
            m = candidate.metrics
            lines.append(
                f"  {candidate.name:<24}"
                + "".join(f"{_fmt(m.get('backtest_' + c, float('nan'))):>10}" for c in cols)
            )
        lines.append(f"Candidate:   {tags.get('candidate.name')}")
    if tags.get("promotion.reason"):
        lines.append(f"Promotion:   {tags['promotion.reason']}")
    lines.append(f"Serving:     version {tags.get('serving_version') or 'none'} scored this day")
    return lines


def _published_lines(resources: Resources, run_day: date) -> list[str]:
    """Rows published and the planner's lines (or why the warehouse could not be read)."""
    from forecasting.publishing import read_published

    try:
        forecasts, published = read_published(resources.warehouse, run_day)
    except Exception as exc:  # the warehouse may be unreachable; say so, do not fail
        return [f"Published:   could not read the warehouse: {type(exc).__name__}"]
    if not len(published):
        return ["Published:   nothing for this date", *_planner_lines(resources, run_day)]
    row = published.iloc[0]
    return [
        f"Published:   {len(forecasts):,} rows in demand_forecast (model {row['model_name']} "
        f"v{row['model_version']}, {row['series_count']} series x {row['horizon_days']} days)",
        *_launch_lines(resources.storage, run_day),
        *_planner_lines(resources, run_day),
    ]


def _launch_lines(storage: Storage, run_day: date, shown: int = 5) -> list[str]:
    """New products forecast from the launch curves: how many, and the first launches."""
    found = launches(storage, run_day)
    if found.empty:
        return []
    planned = found.loc[found["history_days"] == 0]
    lines = [
        f"New products: {found['sku'].nunique()} forecast from their text neighbours' launch "
        f"curves ({planned['sku'].nunique()} launching in the horizon; cold_start = 1)"
    ]
    for _, r in planned.head(shown).iterrows():
        lines.append(
            f"  {r['sku']} {str(r['name'])[:40]!r} at {r['location_id']}, launches "
            f"{r['launched_on']}: {float(r['forecast']):.1f} units over the horizon "
            f"(P10-P90 {float(r['p10']):.1f}-{float(r['p90']):.1f}); like "
            + str(r["neighbours"]).split(";")[0]
        )
    return lines


def run_summary(run_day: date, settings: Settings, *, resources: Resources | None = None) -> str:
    """Summarise a date's run from storage, MLflow and the warehouse.

    Lists rows extracted, the validation result, the training decision, every candidate's
    backtest metrics, the promotion decision and the ``@champion`` version (from the date's
    run: :func:`forecasting.registry.runs.date_run`, finished and complete), rows
    published, and where the MLflow store is with the command that opens its UI.

    Args:
        run_day: The run date.
        settings: Where storage, the MLflow store and the warehouse are.
        resources: The task's resources (default: built from ``settings``).

    Returns:
        The summary, one line per fact.
    """
    from forecasting.registry.models import get_champion

    resources = resources or Resources.from_settings(settings)
    storage = resources.storage
    lines = [f"Demand forecast run for {run_day.isoformat()}", ""]
    lines += _extract_lines(storage, run_day)
    lines += _validation_lines(storage, run_day)
    lines += _training_lines(resources, run_day)
    champion = get_champion(REGISTERED_MODEL_NAME)
    lines.append(
        f"Champion:    {REGISTERED_MODEL_NAME}@champion = "
        + (f"version {champion.version} ({champion.candidate})" if champion else "none")
    )
    lines += _published_lines(resources, run_day)
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
