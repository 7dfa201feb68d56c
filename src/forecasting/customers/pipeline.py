"""The steps of the ``customer_models`` DAG, each a plain function (no Airflow).

extract (pseudonymised as read) -> validate (Great Expectations) -> train propensity and
train recommendations (cadence, backtest, MLflow run, registration, promotion; each pins
the version its day is scored with) -> score (each pinned version, through MLflow pyfunc)
-> publish (both tables in one transaction, forgotten customers removed from every date).

Steps hand each other JSON-ready dicts holding URIs on the shared storage, like the demand
pipeline's. Customer ids are pseudonymised inside extraction; nothing downstream ever
sees a raw id.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from datetime import date, timedelta
from typing import Any

import pandas as pd

from forecasting.config import Settings
from forecasting.customers.config import (
    PROPENSITY_GATE_BASELINE,
    PROPENSITY_MODEL,
    RECOMMENDATIONS_MODEL,
    RECOMMENDER_GATE_BASELINE,
    CustomerConfig,
)
from forecasting.customers.features import LABEL_DAYS, LINE_COLUMNS
from forecasting.db import make_engine
from forecasting.errors import NoChampionError
from forecasting.storage import Storage, read_json, read_parquet, write_json, write_parquet

__all__ = [
    "extract_customers_step",
    "publish_customers_step",
    "run_customer_pipeline",
    "score_customers_step",
    "train_propensity_step",
    "train_recommendations_step",
    "validate_customers_step",
]

log = logging.getLogger(__name__)

PSEUDONYM_PATTERN = r"^[0-9a-f]{32}$"
#: Model version tag: the opt-out set (one hash) the version was trained without.
OPTOUTS_TAG = "privacy.optouts_fingerprint"
_DESCRIPTIONS = {
    PROPENSITY_MODEL: "Probability that a customer buys in the next 28 days, and expected "
    "orders (customers as keyed pseudonyms).",
    RECOMMENDATIONS_MODEL: "Top-10 products per customer for the next 28 days (customers as "
    "keyed pseudonyms).",
}


# --------------------------------------------------------------------------- data
def extract_customers_step(
    run_day: date, settings: Settings, config: CustomerConfig, storage: Storage, key: bytes
) -> dict[str, Any]:
    """Read ``history_days`` of customer order lines up to the run's day, pseudonymised as
    they are read (customers who opted out are left out by the query), and forget the
    opted-out customers in every stored customer partition of every date
    (:func:`~forecasting.customers.privacy.forget_stored`).

    Returns:
        ``uri`` of the stage, ``counts``, ``fingerprint``, ``forgotten`` (how many opted
        out), ``optouts_fingerprint`` (one hash of the whole opt-out set) and ``forget``
        (what the stored partitions lost).
    """
    from forecasting.customers.extract import read_customer_lines
    from forecasting.customers.privacy import (
        forget_stored,
        forgotten_pseudonyms,
        optouts_fingerprint,
    )

    engine = make_engine(settings.source_url)
    first = run_day - timedelta(days=config.history_days - 1)
    extract = read_customer_lines(
        engine, first, run_day, key, settings.shop_timezone, settings.source_timezone
    )
    forgotten = forgotten_pseudonyms(engine, key)
    forget = forget_stored(storage, forgotten)
    with storage.write_stage(run_day, "customers_extract") as folder:
        write_parquet(extract.lines, folder / "lines.parquet")
        write_json(folder / "counts.json", extract.counts)
    return {
        "uri": storage.uri(folder),
        "counts": extract.counts,
        "fingerprint": extract.fingerprint,
        "forgotten": len(forgotten),
        "optouts_fingerprint": optouts_fingerprint(forgotten),
        "forget": forget,
        "first_day": first.isoformat(),
    }


def customer_expectations() -> list[Any]:
    """The Great Expectations rules on customer lines."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(LINE_COLUMNS), exact_match=True),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in LINE_COLUMNS],
        gxe.ExpectColumnValuesToMatchRegex(column="customer", regex=PSEUDONYM_PATTERN),
        gxe.ExpectColumnValuesToMatchRegex(column="order", regex=PSEUDONYM_PATTERN),
        gxe.ExpectColumnValuesToBeInSet(column="cancelled", value_set=[0, 1]),
        gxe.ExpectColumnValuesToBeBetween(column="unit_price", min_value=0, strict_min=False),
        gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=-100_000, max_value=100_000),
    ]


def validate_customers_step(
    run_day: date, extracted: dict[str, Any], config: CustomerConfig, storage: Storage
) -> dict[str, Any]:
    """Great Expectations on the customer lines; enough history to train on.

    Raises:
        ValidationFailedError: Naming each failed rule, the table and sample rows.
    """
    from forecasting.validation.suite import (
        Finding,
        ValidationFailedError,
        ValidationReport,
        validate_frame,
    )

    lines = read_parquet(storage.open(extracted["uri"]) / "lines.parquet")
    table = "customer order lines (customers_extract/lines.parquet)"
    findings = validate_frame(lines, customer_expectations(), table, ("customer", "order", "sku"))
    span = (lines["ds"].max() - lines["ds"].min()).days + 1 if len(lines) else 0
    needed = 8 * LABEL_DAYS
    findings.append(
        Finding(
            "history_covers_training_cutoffs",
            {"min_days": str(needed)},
            span >= needed,
            table,
            observed=f"{span} days of customer orders",
        )
    )
    report = ValidationReport(f"customer lines for {run_day}", True, {table: len(lines)}, findings)
    report = ValidationReport(report.subject, not report.failures, report.tables, findings)
    with storage.write_stage(run_day, "customers_validate") as folder:
        write_json(folder / "validation.json", report.to_dict())
    if not report.success:
        raise ValidationFailedError(report, storage.uri(folder / "validation.json"))
    return {
        **extracted,
        "report_uri": storage.uri(folder / "validation.json"),
        "customers": int(lines["customer"].nunique()),
        "rules": len(findings),
    }


def _lines(storage: Storage, validated: dict[str, Any]) -> pd.DataFrame:
    return read_parquet(storage.open(validated["uri"]) / "lines.parquet")


# --------------------------------------------------------------------------- training
def _config_hash(config: CustomerConfig, kind: str) -> str:
    fields = (
        {"propensity_models", "seed", "history_days"}
        if kind == PROPENSITY_MODEL
        else {"recommenders", "seed", "history_days"}
    )
    payload = json.dumps(config.model_dump(include=fields), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _live_reference(
    kind: str, run_day: date, lines: pd.DataFrame, settings: Settings, version: str
) -> float | None:
    """The champion's score on what customers did in the 28 days after the date it
    published for 28 days ago (``None`` if it did not publish then)."""
    from forecasting.customers.features import labels, purchases
    from forecasting.customers.publish import read_customer_tables
    from forecasting.customers.recommend import ranking_metrics

    then = run_day - timedelta(days=LABEL_DAYS)
    try:
        propensity, recommendations = read_customer_tables(
            make_engine(settings.warehouse_url), then
        )
    except Exception:  # no warehouse access yet: fall back to the backtest
        log.warning("could not read the published rows of %s", then, exc_info=True)
        return None
    cutoff = pd.Timestamp(then)
    if kind == PROPENSITY_MODEL:
        rows = propensity.loc[propensity["model_version"].astype(str) == version]
        if rows.empty:
            return None
        bought = labels(lines, cutoff)["bought"]
        y = rows["customer_pseudonym"].map(bought).fillna(0).to_numpy(int)
        if y.min() == y.max():
            return None
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(y, rows["probability"].to_numpy(float)))
    rows = recommendations.loc[recommendations["model_version"].astype(str) == version]
    if rows.empty:
        return None
    bought = purchases(lines)
    history = bought.loc[bought["ds"] <= cutoff]
    truth = bought.loc[(bought["ds"] > cutoff) & (bought["ds"] <= pd.Timestamp(run_day))]
    recs = rows.rename(columns={"customer_pseudonym": "customer"})
    value = ranking_metrics(recs, history, truth)["ndcg_at_10"]
    return value if math.isfinite(value) else None


def _retrain_after_optouts(
    decision: Any, kind: str, validated: dict[str, Any], champion: Any
) -> Any:
    """Retrain when the version that would serve was trained before the latest opt-outs.

    Every version is tagged with :data:`OPTOUTS_TAG` (one hash of the opt-out set it was
    trained without). A model trained while a customer who has since opted out was still
    in the data is replaced at the next run: its retrained successor, fitted without
    them, serves once the promotion rule accepts it.
    """
    from forecasting.registry.models import list_versions
    from forecasting.training.cadence import TrainingDecision

    if decision.train:
        return decision
    serving = decision.serve_version or (champion.version if champion else None)
    version = next((v for v in list_versions(kind) if v.version == serving), champion)
    if version is None or version.tags.get(OPTOUTS_TAG) == validated["optouts_fingerprint"]:
        return decision
    return TrainingDecision(
        True,
        f"the opt-out list changed since v{version.version} was trained "
        f"({validated['forgotten']} customers opted out in all): retraining without them",
        "optout",
        backfill=decision.backfill,
    )


def _train(
    kind: str,
    run_day: date,
    validated: dict[str, Any],
    settings: Settings,
    config: CustomerConfig,
    storage: Storage,
) -> dict[str, Any]:
    """Cadence, then (on training days) backtest, log, register and gate one model kind."""
    import mlflow

    from forecasting.customers.promotion import CustomerGate, decide_customer_promotion
    from forecasting.customers.serving import log_customer_model
    from forecasting.registry.models import (
        apply_decision,
        get_champion,
        list_versions,
        register_run_model,
    )
    from forecasting.registry.runs import (
        COMPLETE_TAG,
        end_stale_runs,
        find_date_run,
        log_frame,
        start_date_run,
    )
    from forecasting.registry.tracking import configure_mlflow
    from forecasting.training.cadence import decide_training

    storage.check_fence()  # a run that lost its date's lease writes nothing to MLflow
    experiment_id = configure_mlflow(settings.tracking_uri, settings.artifact_root, kind)
    end_stale_runs(experiment_id, run_day)
    config_hash = _config_hash(config, kind)
    champion = get_champion(kind)
    decision = decide_training(
        run_day,
        config_hash=config_hash,
        fingerprint=validated["fingerprint"],
        series=int(validated["customers"]),
        retrain_every_days=config.retrain_every_days,
        force_retrain=config.force_retrain,
        champion=champion,
        versions=list_versions(kind),
        previous_run=find_date_run(experiment_id, run_day),
    )
    decision = _retrain_after_optouts(decision, kind, validated, champion)
    if decision.rule == "same_run":
        return {"version": decision.serve_version, "promoted": False, "reason": decision.reason}
    lines = _lines(storage, validated)
    tags = {
        "data_fingerprint": validated["fingerprint"],
        "config_hash": config_hash,
        "training.decision": "train" if decision.train else "reuse",
        "training.rule": decision.rule,
        "training.reason": decision.reason,
        "data.rows": str(len(lines)),
    }
    params = {
        "data": {"first_day": validated["first_day"], "last_day": run_day.isoformat()},
        "config": config.model_dump(),
    }
    outcome: dict[str, Any]
    with start_date_run(experiment_id, run_day, tags, params, title=kind) as run:
        mlflow.log_metrics(
            {f"data_{k}": float(v) for k, v in validated["counts"].items()}
            | {"data_forgotten_customers": float(validated["forgotten"])}
        )
        mlflow.log_dict(read_json(storage.open(validated["report_uri"])), "validation.json")
        if not decision.train:
            outcome = {
                "version": decision.serve_version,
                "promoted": False,
                "reason": decision.reason,
            }
        else:
            if kind == PROPENSITY_MODEL:
                winner, model, table, metric, baselines = _backtest_propensity(
                    lines, run_day, config
                )
            else:
                winner, model, table, metric, baselines = _backtest_recommenders(
                    lines, run_day, config
                )
            log_frame(table, "backtest_metrics.csv")
            scores = table.set_index("model")[metric]
            best_baseline = float(scores.loc[list(baselines)].max())
            metrics = table.set_index("model").loc[winner].to_dict()
            mlflow.log_metrics(
                {
                    f"backtest_{k}": float(v)
                    for k, v in metrics.items()
                    if isinstance(v, (int, float)) and math.isfinite(v)
                }
                | {f"baseline_{metric}": best_baseline}
            )
            model_uri = log_customer_model(model, "model", lines, run_day.isoformat())
            storage.check_fence()  # still the date's run: register, and maybe move @champion
            version = register_run_model(
                kind,
                run.info.run_id,
                model_uri,
                tags={
                    "candidate": winner,
                    "config_hash": config_hash,
                    "data_end": run_day.isoformat(),
                    "series": str(validated["customers"]),
                    "backfill": "true" if decision.backfill else "false",
                    OPTOUTS_TAG: validated["optouts_fingerprint"],
                    **{
                        f"backtest_{k}": f"{float(v):.6f}"
                        for k, v in metrics.items()
                        if isinstance(v, (int, float)) and math.isfinite(v)
                    },
                },
                description=_DESCRIPTIONS[kind],
            )
            live = (
                _live_reference(kind, run_day, lines, settings, champion.version)
                if champion
                else None
            )
            if live is not None:
                mlflow.log_metric(f"champion_live_{metric}", live)
            gate = CustomerGate(
                metric=metric,
                candidate=float(scores.loc[winner]),
                baseline=best_baseline,
                candidate_is_baseline=winner in baselines,
                floor=config.min_auc if kind == PROPENSITY_MODEL else 0.0,
                min_gain=config.min_auc_gain if kind == PROPENSITY_MODEL else config.min_ndcg_gain,
                tolerance=config.champion_tolerance,
                data_end=run_day,
                champion_version=champion.version if champion else None,
                champion_data_end=champion.data_end if champion else None,
                champion_reference=live
                if live is not None
                else (champion.backtest.get(metric) if champion else None),
                reference_kind="live" if live is not None else "backtest",
            )
            verdict = decide_customer_promotion(gate)
            serving = apply_decision(kind, version, verdict, run_day, champion, decision.backfill)
            outcome = {
                "version": serving,
                "promoted": verdict.promote,
                "reason": verdict.reason,
                "candidate": winner,
                "registered_version": version,
                "metric": metric,
                "score": float(scores.loc[winner]),
                "best_baseline": best_baseline,
            }
        mlflow.set_tags(
            {
                "serving_version": outcome["version"] or "",
                "promotion.decision": "promoted" if outcome["promoted"] else "not promoted",
                "promotion.reason": outcome["reason"],
                COMPLETE_TAG: "true",
            }
        )
        outcome["run_id"] = run.info.run_id
    log.info("%s %s: serving version %s (%s)", kind, run_day, outcome["version"], outcome["reason"])
    return outcome


def _backtest_propensity(
    lines: pd.DataFrame, run_day: date, config: CustomerConfig
) -> tuple[str, Any, pd.DataFrame, str, tuple[str, ...]]:
    import mlflow

    from forecasting.customers.plots import lift_chart, reliability_plot, reliability_table
    from forecasting.customers.propensity import CutoffPlan, backtest_propensity, fit_propensity

    plan = CutoffPlan.for_day(run_day)
    backtest = backtest_propensity(lines, plan, config.propensity_models, config.seed)
    table = backtest.table()
    winner = str(table.sort_values("roc_auc", ascending=False)["model"].iloc[0])
    mlflow.log_figure(reliability_plot(backtest.scored), "reliability.png")
    mlflow.log_figure(lift_chart(backtest.scored), "lift.png")
    frame = backtest.scored[winner]
    log_reliability = reliability_table(frame["y"].to_numpy(), frame["p"].to_numpy())
    mlflow.log_dict(log_reliability.to_dict(orient="list"), "reliability.json")
    mlflow.log_dict(
        {
            "test": [str(c) for c in plan.test],
            "calibration": str(plan.calibration),
            "train": [str(c) for c in plan.train],
        },
        "cutoffs.json",
    )
    model = fit_propensity(winner, lines, plan.final(), config.seed)
    return winner, model, table, "roc_auc", (PROPENSITY_GATE_BASELINE,)


def _backtest_recommenders(
    lines: pd.DataFrame, run_day: date, config: CustomerConfig
) -> tuple[str, Any, pd.DataFrame, str, tuple[str, ...]]:
    import mlflow

    from forecasting.customers.recommend import backtest_recommenders, tune_and_fit

    backtest = backtest_recommenders(lines, run_day, config.seed, config.recommenders)
    table = backtest.table()
    # Chosen on the validation window; the test window only reports and gates.
    winner = str(table.sort_values("validation_ndcg_at_10", ascending=False)["model"].iloc[0])
    mlflow.log_dict(backtest.params, "recommender_params.json")
    model = tune_and_fit(lines, run_day, winner, backtest.params[winner])
    return winner, model, table, "ndcg_at_10", (RECOMMENDER_GATE_BASELINE,)


def train_propensity_step(
    run_day: date,
    validated: dict[str, Any],
    settings: Settings,
    config: CustomerConfig,
    storage: Storage,
) -> dict[str, Any]:
    """Propensity: cadence, backtest, MLflow run, registration and promotion.

    Returns:
        ``version`` pinned for scoring (``None``: no version may serve), ``promoted``,
        ``reason``, ``run_id``.
    """
    return _train(PROPENSITY_MODEL, run_day, validated, settings, config, storage)


def train_recommendations_step(
    run_day: date,
    validated: dict[str, Any],
    settings: Settings,
    config: CustomerConfig,
    storage: Storage,
) -> dict[str, Any]:
    """Recommendations: as :func:`train_propensity_step`."""
    return _train(RECOMMENDATIONS_MODEL, run_day, validated, settings, config, storage)


# --------------------------------------------------------------------------- serving
def score_customers_step(
    run_day: date,
    validated: dict[str, Any],
    propensity: dict[str, Any],
    recommendations: dict[str, Any],
    settings: Settings,
    storage: Storage,
) -> dict[str, Any]:
    """Score every customer with the pinned versions, through MLflow pyfunc.

    Raises:
        NoChampionError: If either model has no version that may serve the day.
    """
    import mlflow

    from forecasting.registry.tracking import configure_mlflow

    lines = _lines(storage, validated)  # opted-out customers were never extracted
    outputs = {}
    for kind, pinned in ((PROPENSITY_MODEL, propensity), (RECOMMENDATIONS_MODEL, recommendations)):
        version = pinned.get("version")
        if not version:
            raise NoChampionError(
                f"no {kind} version may serve {run_day}: {pinned.get('reason')}; nothing is "
                "scored or published"
            )
        configure_mlflow(settings.tracking_uri, settings.artifact_root, kind)
        model = mlflow.pyfunc.load_model(f"models:/{kind}/{version}")
        out = model.predict(lines, params={"cutoff": run_day.isoformat()})
        outputs[kind] = out.reset_index(drop=True)
    with storage.write_stage(run_day, "customers_scores") as folder:
        write_parquet(outputs[PROPENSITY_MODEL], folder / "propensity.parquet")
        write_parquet(outputs[RECOMMENDATIONS_MODEL], folder / "recommendations.parquet")
    return {
        "uri": storage.uri(folder),
        "versions": {
            "propensity": str(propensity["version"]),
            "recommendations": str(recommendations["version"]),
        },
        "customers": len(outputs[PROPENSITY_MODEL]),
        "recommendation_rows": len(outputs[RECOMMENDATIONS_MODEL]),
    }


def publish_customers_step(
    run_day: date,
    scored: dict[str, Any],
    validated: dict[str, Any],
    settings: Settings,
    storage: Storage,
    key: bytes,
) -> dict[str, Any]:
    """Replace the date's rows of ``customer_propensity`` and ``customer_recommendations``
    in one transaction; opted-out customers leave every date's rows (their pseudonyms are
    computed from the shop's ``customer_optouts`` and the key, never stored)."""
    from forecasting.customers.privacy import forgotten_pseudonyms
    from forecasting.customers.publish import publish_customers

    folder = storage.open(scored["uri"])
    forgotten = forgotten_pseudonyms(make_engine(settings.source_url), key)
    storage.check_fence()  # a run that lost its date's lease never publishes
    rows = publish_customers(
        make_engine(settings.warehouse_url),
        run_day,
        read_parquet(folder / "propensity.parquet"),
        read_parquet(folder / "recommendations.parquet"),
        scored["versions"],
        forgotten,
    )
    return {"rows": rows, "versions": scored["versions"], "run_date": run_day.isoformat()}


def run_customer_pipeline(
    run_day: date,
    settings: Settings,
    config: CustomerConfig,
    storage: Storage,
    key: bytes,
    holder: str | None = None,
    lease_wait: float = 0.0,
) -> dict[str, Any]:
    """Every step in order without Airflow, holding the date's lease (see
    :func:`forecasting.pipeline.run_pipeline`).

    Raises:
        LeaseHeldError: If another run holds the date.
    """
    from forecasting.leases import Lease, begin_run, end_run, process_holder, run_lease_key
    from forecasting.names import CUSTOMER_PIPELINE

    lease = Lease(
        make_engine(settings.warehouse_url),
        run_lease_key(CUSTOMER_PIPELINE, run_day),
        holder or process_holder(),
    )
    begin_run(run_day, lease, storage, lease_wait)
    storage = storage.fenced(lease.renew)
    try:
        with lease.kept_alive():
            extracted = extract_customers_step(run_day, settings, config, storage, key)
            validated = validate_customers_step(run_day, extracted, config, storage)
            propensity = train_propensity_step(run_day, validated, settings, config, storage)
            recommendations = train_recommendations_step(
                run_day, validated, settings, config, storage
            )
            scored = score_customers_step(
                run_day, validated, propensity, recommendations, settings, storage
            )
            published = publish_customers_step(run_day, scored, validated, settings, storage, key)
    finally:
        end_run(lease)
    return {"propensity": propensity, "recommendations": recommendations, **published}
