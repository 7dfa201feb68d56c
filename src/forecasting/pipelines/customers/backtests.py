"""What the training steps measure: each model kind's backtest (logged to the active MLflow
run) and the serving champion's live score."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from forecasting import artifacts
from forecasting.customers.config import (
    PROPENSITY_GATE_BASELINE,
    PROPENSITY_MODEL,
    RECOMMENDER_GATE_BASELINE,
    CustomerConfig,
)
from forecasting.customers.features import LABEL_DAYS
from forecasting.registry.runs import log_json
from forecasting.registry.tracking import log_figure

__all__ = ["CustomerBacktest", "backtest", "config_hash", "live_reference"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CustomerBacktest:
    """A backtest's winner, refitted on all lines, and the table it won.

    Attributes:
        winner: The winning candidate.
        model: The winner refitted for the run's day.
        table: One row per candidate (``model`` and its metrics).
        metric: The metric the promotion rule compares.
        baselines: The baselines the rule compares with.
    """

    winner: str
    model: Any
    table: pd.DataFrame
    metric: str
    baselines: tuple[str, ...]

    @property
    def score(self) -> float:
        """The winner's score."""
        return float(self.table.set_index("model").loc[self.winner, self.metric])

    @property
    def best_baseline(self) -> float:
        """The best baseline's score."""
        scores = self.table.set_index("model")[self.metric]
        return float(scores.loc[list(self.baselines)].max())

    @property
    def metrics(self) -> dict[str, Any]:
        """Every metric of the winner."""
        return dict(self.table.set_index("model").loc[self.winner].to_dict())


def config_hash(config: CustomerConfig, kind: str) -> str:
    """Hash of what in ``config`` shapes a model kind (a change retrains it)."""
    fields = (
        {"propensity_models", "seed", "history_days"}
        if kind == PROPENSITY_MODEL
        else {"recommenders", "seed", "history_days", "discovery_slots", "discovery_target"}
    )
    payload = json.dumps(config.model_dump(include=fields), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def backtest(
    kind: str,
    lines: pd.DataFrame,
    run_day: date,
    config: CustomerConfig,
    products: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
) -> CustomerBacktest:
    """Backtest a model kind's candidates and refit the winner (inside the active run).

    Args:
        kind: The model kind.
        lines: The customer lines.
        run_day: The run's day.
        config: The customer models' configuration.
        products: The catalogue's text (recommendations: the content candidate's text
            model is fitted on it and saved with the recommender).
        events: The customers' web events (browsing features; session and sequence
            recommenders); ``None``: as without an event log.
    """
    if kind == PROPENSITY_MODEL:
        return _backtest_propensity(lines, run_day, config, events)
    return _backtest_recommenders(lines, run_day, config, products, events)


def _backtest_propensity(
    lines: pd.DataFrame,
    run_day: date,
    config: CustomerConfig,
    events: pd.DataFrame | None = None,
) -> CustomerBacktest:
    from forecasting.customers.plots import lift_chart, reliability_plot, reliability_table
    from forecasting.customers.propensity import CutoffPlan, backtest_propensity, fit_propensity

    plan = CutoffPlan.for_day(run_day)
    result = backtest_propensity(lines, plan, config.propensity_models, config.seed, events)
    table = result.table()
    winner = str(table.sort_values("roc_auc", ascending=False)["model"].iloc[0])
    log_figure(reliability_plot(result.scored), artifacts.MLFLOW_RELIABILITY_PLOT)
    log_figure(lift_chart(result.scored), artifacts.MLFLOW_LIFT_CHART)
    frame = result.scored[winner]
    log_reliability = reliability_table(frame["y"].to_numpy(), frame["p"].to_numpy())
    log_json(log_reliability.to_dict(orient="list"), artifacts.MLFLOW_RELIABILITY_TABLE)
    log_json(
        {
            "test": [str(c) for c in plan.test],
            "calibration": str(plan.calibration),
            "train": [str(c) for c in plan.train],
        },
        artifacts.MLFLOW_CUTOFFS,
    )
    model = fit_propensity(winner, lines, plan.final(), config.seed, events)
    return CustomerBacktest(winner, model, table, "roc_auc", (PROPENSITY_GATE_BASELINE,))


def _backtest_recommenders(
    lines: pd.DataFrame,
    run_day: date,
    config: CustomerConfig,
    products: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
) -> CustomerBacktest:
    from forecasting.customers.recommend_backtest import backtest_recommenders, tune_and_fit

    result = backtest_recommenders(
        lines,
        run_day,
        config.seed,
        config.recommenders,
        products,
        config.discovery_slots,
        config.discovery_target,
        events,
    )
    table = result.table()
    # Chosen on the validation window; the test window only reports and gates.
    winner = str(table.sort_values("validation_ndcg_at_10", ascending=False)["model"].iloc[0])
    log_json(result.params, artifacts.MLFLOW_RECOMMENDER_PARAMS)
    model = tune_and_fit(lines, run_day, winner, result.params[winner], result.text, events)
    return CustomerBacktest(winner, model, table, "ndcg_at_10", (RECOMMENDER_GATE_BASELINE,))


def live_reference(
    kind: str, run_day: date, lines: pd.DataFrame, warehouse: Engine, version: str
) -> float | None:
    """The champion's score on what customers did in the 28 days after the date it
    published for 28 days ago (``None`` if it did not publish then)."""
    from forecasting.customers.features import labels, purchases
    from forecasting.customers.recommend_backtest import ranking_metrics
    from forecasting.publishing.customers import read_customer_tables

    then = run_day - timedelta(days=LABEL_DAYS)
    try:
        propensity, recommendations = read_customer_tables(warehouse, then)
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
