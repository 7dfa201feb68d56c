"""Step ``register``: the date's MLflow run, a new model version and the promotion rule."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecasting.artifacts import MLFLOW_PLAUSIBILITY, MLFLOW_VALIDATION_DIR
from forecasting.config import REGISTERED_MODEL_NAME, PipelineConfig
from forecasting.lifecycle.promotion import PromotionDecision
from forecasting.names import BASELINE_MODEL
from forecasting.pipelines.demand.handoffs import Backtested, Checked, Fitted, Registered
from forecasting.pipelines.demand.record import (
    log_backtest,
    log_launches,
    log_sharded_model,
    log_text_model,
)
from forecasting.registry.tracking import log_metrics, set_tags
from forecasting.resources import Resources
from forecasting.storage import read_json

if TYPE_CHECKING:
    from forecasting.registry.models import VersionInfo

__all__ = ["FALLBACK_TAG", "register_step"]

log = logging.getLogger(__name__)

#: Model version tag: the version serves although it was not promoted, because no champion
#: could serve its date and nothing beat the seasonal naive baseline (see register).
FALLBACK_TAG = "serving.fallback"


def register_step(
    run_day: date,
    fitted: list[Fitted],
    backtests: list[Backtested],
    checked: Checked,
    config: PipelineConfig,
    resources: Resources,
) -> Registered:
    """Log the date's MLflow run; on training days register the model and apply the
    promotion rule; in every case pin the version this run scores with.

    Args:
        run_day: The run's day.
        fitted: Every shard's fit.
        backtests: Every shard's backtest.
        checked: The catalogue's facts, training decision and plan.
        config: Run configuration.
        resources: The task's MLflow tracker and storage.

    Returns:
        The version pinned for scoring (``None`` if no model may serve), whether it was
        promoted and why, the date's MLflow run and the training decision.
    """
    from forecasting.registry.runs import (
        COMPLETE_TAG,
        end_stale_runs,
        find_date_run,
        log_json,
        start_date_run,
    )

    storage = resources.storage
    storage.check_fence()  # a run that lost its date's lease writes nothing to MLflow
    experiment_id = resources.experiment_id
    end_stale_runs(experiment_id, run_day)
    decision = checked.decision
    reuse = Registered(decision.serve_version, False, decision.reason, "", decision)
    if decision.rule == "same_run":
        return reuse
    previous = find_date_run(experiment_id, run_day)
    tags, params, metrics = _run_record(checked, config, previous)
    with start_date_run(experiment_id, run_day, tags, params) as run:
        run_id = run.info.run_id
        log_metrics(metrics)
        set_tags({"data.rows": str(checked.rows)})
        catalogue = read_json(storage.open(checked.report_uri))
        log_json(catalogue, f"{MLFLOW_VALIDATION_DIR}/catalogue.json")
        for uri in checked.validation_reports:
            shard = Path(uri).parent.parent.name
            log_json(read_json(storage.open(uri)), f"{MLFLOW_VALIDATION_DIR}/{shard}.json")
        outcome = (
            _register_trained(run_day, fitted, backtests, checked, config, resources, run_id)
            if decision.train
            else reuse
        )
        set_tags(
            {
                "serving_version": outcome.version or "",
                "promotion.decision": "promoted" if outcome.promoted else "not promoted",
                "promotion.reason": outcome.reason,
                COMPLETE_TAG: "true",
            }
        )
    log.info("run %s: serving version %s (%s)", run_day, outcome.version, outcome.reason)
    return Registered(
        outcome.version,
        outcome.promoted,
        outcome.reason,
        run_id,
        decision,
        outcome.registered_version,
        outcome.candidate,
    )


def _run_record(
    checked: Checked, config: PipelineConfig, previous: dict[str, Any] | None
) -> tuple[dict[str, str], dict[str, Any], dict[str, float]]:
    """Tags, params and metrics of the date's MLflow run (``previous``: the date's earlier
    run, if any)."""
    decision = checked.decision
    tags = {
        "data_fingerprint": checked.fingerprint,
        "config_hash": checked.config_hash,
        "training.decision": "train" if decision.train else "reuse",
        "training.rule": decision.rule,
        "training.reason": decision.reason,
    }
    changed = bool(previous and previous["fingerprint"] != checked.fingerprint)
    if previous and changed:
        tags["data.changed_since_run"] = previous["run_id"]
        tags["data.previous_fingerprint"] = previous["fingerprint"]
    params = {
        "data": {
            "window": checked.window.to_dict(),
            "rows": checked.rows,
            "series": checked.series,
            "active_series": checked.active_series,
        },
        "config": config.model_dump(exclude={"model_params"}),
        "model_params": config.model_params,
    }
    metrics = {
        "data_rows": float(checked.rows),
        "data_series": float(checked.series),
        "data_active_series": float(checked.active_series),
        **{f"cleaning_{k}": float(v) for k, v in checked.cleaning.items()},
        **{f"quality_{k}": float(v) for k, v in checked.quality.items()},
        "source_rows_read": float(checked.sync["rows"]),
        "source_rows_per_second": float(checked.sync.get("rows_per_second") or 0.0),
        "validation_warnings": float(checked.warnings),
    }
    if previous and previous.get("rows") and changed:
        metrics["data_rows_change"] = float(checked.rows) - float(previous["rows"])
    return tags, params, metrics


def _log_training(
    run_day: date,
    fitted: list[Fitted],
    backtests: list[Backtested],
    checked: Checked,
    config: PipelineConfig,
    resources: Resources,
) -> tuple[str, dict[str, dict[str, float]], dict[str, float] | None, int, int, str]:
    """Log the backtests, the refit's plausibility and the sharded model to the date's run.

    Returns:
        The winner, every candidate's metrics, the champion's live metrics and days, the
        refit's implausible series and the logged model's URI.
    """
    from forecasting.registry.runs import log_json

    storage, plan = resources.storage, checked.plan
    done = [f for f in fitted if not f.skipped]
    if plan.backtest:
        winner, metrics, live, live_days = log_backtest(storage, backtests, plan.apply(config))
        log_launches(storage, [b for b in backtests if not b.skipped])
    else:
        winner, metrics, live, live_days = BASELINE_MODEL, {}, None, 0
        set_tags({"backtest.skipped": "true", "backtest.reason": plan.reason})
    set_tags({"training.plan": plan.reason})
    if {f.winner for f in done} != {winner}:
        raise RuntimeError(f"shards disagree on the winner: {[f.winner for f in done]}")
    implausible = sum(int(f.plausibility["implausible"]) for f in done)
    log_json({f"shard {f.shard.index}": f.plausibility for f in done}, MLFLOW_PLAUSIBILITY)
    log_metrics({"refit_implausible_series": float(implausible)})
    model_uri = log_sharded_model(storage, run_day, done, winner, config)
    log_text_model(storage, run_day, done[0])
    set_tags(
        {
            "candidate.name": winner,
            "candidate.config_hash": checked.config_hash,
            "candidate.model_uri": model_uri,
        }
    )
    return winner, metrics, live, live_days, implausible, model_uri


def _register_trained(
    run_day: date,
    fitted: list[Fitted],
    backtests: list[Backtested],
    checked: Checked,
    config: PipelineConfig,
    resources: Resources,
    run_id: str,
) -> Registered:
    """The training-day half of :func:`register_step` (inside the date's MLflow run)."""
    from forecasting.lifecycle.serving import pin_serving_version, register_candidate
    from forecasting.registry.models import get_champion, set_version_tags

    winner, metrics, live, live_days, implausible, model_uri = _log_training(
        run_day, fitted, backtests, checked, config, resources
    )
    champion = get_champion(REGISTERED_MODEL_NAME)
    backfill = bool(checked.decision.backfill)
    scores = metrics.get(winner, {})
    resources.storage.check_fence()  # still the date's run: register, and maybe move @champion
    version = register_candidate(
        REGISTERED_MODEL_NAME,
        run_id,
        model_uri,
        candidate=winner,
        config_hash=checked.config_hash,
        data_end=run_day,
        series=checked.active_series,
        backfill=backfill,
        backtest=scores,
    )
    plan, metric = checked.plan, config.primary_metric
    decision = _promotion(
        run_day, winner, metrics, (champion, live, live_days), implausible, checked, config
    )
    serving = pin_serving_version(
        REGISTERED_MODEL_NAME, version, decision, run_day, champion, backfill
    )
    reason = decision.reason
    if plan.backtest and plan.skipped:
        reason += f" ({plan.reason})"
    sane = not scores or scores[metric] <= config.promotion.max_primary_metric
    if serving is None and winner == BASELINE_MODEL and not implausible and sane:
        # Nothing beats the baseline yet (a new shop, or a short history) and no champion
        # serves this date: the baseline does, unpromoted, rather than nothing at all.
        serving = version
        set_version_tags(REGISTERED_MODEL_NAME, version, {FALLBACK_TAG: "true"})
        reason += (
            f"; no champion serves {run_day}: the seasonal naive baseline v{version} "
            "serves (not promoted) until a candidate beats it"
        )
    return Registered(serving, decision.promote, reason, run_id, checked.decision, version, winner)


def _promotion(
    run_day: date,
    winner: str,
    metrics: dict[str, dict[str, float]],
    serving: tuple[VersionInfo | None, dict[str, float] | None, int],
    implausible: int,
    checked: Checked,
    config: PipelineConfig,
) -> PromotionDecision:
    """The promotion rule's decision on today's candidate; ``serving``: the champion
    (``None``: none yet), its live metrics and live days."""
    from forecasting.lifecycle.promotion import Evidence, decide_promotion
    from forecasting.registry.promotion import demand_rule

    plan, metric = checked.plan, config.primary_metric
    if not plan.backtest:
        nan = float("nan")
        return PromotionDecision(
            False, f"{plan.reason}: not promoted", "not_backtested", metric, nan, nan
        )
    champion, champion_live, live_days = serving
    evidence = Evidence(
        candidate=float(metrics[winner][metric]),
        baseline=float(metrics[BASELINE_MODEL][metric]),
        bias=float(metrics[winner]["bias"]),
        candidate_is_baseline=winner == BASELINE_MODEL,
        implausible_series=implausible,
        data_end=run_day,
        champion_version=None if champion is None else champion.version,
        champion_data_end=None if champion is None else champion.data_end,
        champion_backtest=None if champion is None else champion.backtest.get(metric),
        champion_live=None if champion_live is None else champion_live.get(metric),
        champion_live_days=live_days,
    )
    return decide_promotion(demand_rule(config.promotion, metric), evidence)
