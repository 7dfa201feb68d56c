"""What a run of the customer models does: one validated, frozen configuration.

The ``customer_models`` DAG derives its params from :class:`CustomerConfig`, as the demand
DAG does from :class:`~forecasting.config.PipelineConfig`. Imported at DAG parse time:
pydantic only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from forecasting.lifecycle.promotion import PromotionRule

__all__ = [
    "EVENT_HISTORY_DAYS",
    "PROPENSITY_BASELINES",
    "PROPENSITY_GATE_BASELINE",
    "PROPENSITY_MODEL",
    "PROPENSITY_MODELS",
    "RECOMMENDATIONS_MODEL",
    "RECOMMENDERS",
    "RECOMMENDER_BASELINES",
    "RECOMMENDER_GATE_BASELINE",
    "CustomerConfig",
]

#: MLflow experiment and registered model of the purchase propensity.
PROPENSITY_MODEL = "customer_propensity"
#: MLflow experiment and registered model of the recommendations.
RECOMMENDATIONS_MODEL = "customer_recommendations"
#: Propensity candidates (see :mod:`forecasting.customers.propensity`).
PROPENSITY_MODELS: tuple[str, ...] = ("logistic_rfm", "bgnbd", "hgb", "mlp")
#: The propensity baselines, always backtested and reported side by side.
PROPENSITY_BASELINES: tuple[str, ...] = ("logistic_rfm", "bgnbd")
#: The baseline the promotion rule requires a propensity model to beat (what marketing
#: teams already have, as seasonal naive is for demand). BG/NBD is a strong statistical
#: peer: it may win and serve.
PROPENSITY_GATE_BASELINE = "logistic_rfm"
#: Recommender candidates (see :mod:`forecasting.customers.recommend`).
RECOMMENDERS: tuple[str, ...] = (
    "popularity",
    "repeat",
    "cooccurrence",
    "als",
    "content",
    "session",
    "sequence",
    "blend",
)
#: The recommender baselines, always backtested and reported side by side.
RECOMMENDER_BASELINES: tuple[str, ...] = ("popularity", "repeat")
#: The baseline a promoted recommender must beat (the same list for everyone); repeat
#: purchases is a strong heuristic peer that may win and serve.
RECOMMENDER_GATE_BASELINE = "popularity"
#: Days of web events the customer models read up to the run's day (default of
#: :attr:`CustomerConfig.event_history_days`): the propensity backtest's oldest training
#: cutoff is 8 label windows (224 days) back and its browsing features look 28 days further.
EVENT_HISTORY_DAYS = 9 * 28


class CustomerConfig(BaseModel):
    """What one run of the customer models does. Frozen.

    Attributes:
        history_days: Days of order history extracted up to the run's day.
        event_history_days: Days of identified customers' web events extracted up to the
            run's day (weeks, not years: see :data:`EVENT_HISTORY_DAYS`); ``0`` reads none.
        propensity_models: Propensity candidates (the baselines are always backtested).
        recommenders: Recommender candidates (the baselines are always backtested).
        retrain_every_days: Retrain when the champion's data is at least this many days
            older than the run's day (or the data or this configuration changed).
        force_retrain: Train even if the cadence would reuse the champion.
        min_auc: A propensity model with a lower backtest ROC AUC is never promoted.
        min_auc_gain: ROC AUC points a propensity model must gain over logistic RFM on
            the same test cutoff.
        min_ndcg_gain: NDCG@10 a recommender must gain over popularity.
        discovery_slots: Ranks of the blend's top 10 reserved for products new to the
            customer, the same for everyone; ``None``: tuned on the validation window, a
            number per third of customers by the strength of their repeat list (see
            :mod:`forecasting.customers.recommend_backtest`).
        discovery_target: The validation new-item hit rate (share of customers who bought
            a product new to them that was in their top 10) the tuned slots aim for, as
            long as the blend's NDCG@10 stays at least repeat purchases'.
        champion_tolerance: A candidate may score this much below the champion's
            reference (its live metric once 28 days of actuals exist, else its recorded
            backtest) and still be promoted: it was trained on fresher data.
        seed: Seed of every random choice.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    history_days: int = Field(730, ge=120, le=3660, description="days of order history")
    event_history_days: int = Field(
        EVENT_HISTORY_DAYS, ge=0, le=3660, description="days of web events (0: none)"
    )
    propensity_models: tuple[str, ...] = Field(
        PROPENSITY_MODELS, description="propensity candidates"
    )
    recommenders: tuple[str, ...] = Field(RECOMMENDERS, description="recommender candidates")
    retrain_every_days: int = Field(7, ge=1, le=366, description="retrain when champion older")
    force_retrain: bool = Field(False, description="train even if the champion is reused")
    min_auc: float = Field(0.55, ge=0.5, le=1.0, description="lowest ROC AUC ever promoted")
    min_auc_gain: float = Field(0.005, ge=0.0, le=0.5, description="AUC over logistic RFM")
    min_ndcg_gain: float = Field(0.0, ge=0.0, le=1.0, description="NDCG@10 over popularity")
    discovery_slots: int | None = Field(
        None, ge=0, le=10, description="blend ranks for new products (None: tuned)"
    )
    discovery_target: float = Field(
        0.20, ge=0.0, le=1.0, description="new-item hit rate the tuned slots aim for"
    )
    champion_tolerance: float = Field(0.01, ge=0.0, le=0.5, description="slack vs champion")
    seed: int = Field(42, description="random seed")

    @field_validator("propensity_models")
    @classmethod
    def _known_propensity(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _with_baselines(value, PROPENSITY_MODELS, PROPENSITY_BASELINES)

    @field_validator("recommenders")
    @classmethod
    def _known_recommenders(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _with_baselines(value, RECOMMENDERS, RECOMMENDER_BASELINES)

    def promotion_rule(self, kind: str) -> PromotionRule:
        """The promotion rule of a customer model (higher is better; gains in points).

        Args:
            kind: :data:`PROPENSITY_MODEL` (ROC AUC, at least ``min_auc``, ``min_auc_gain``
                over logistic RFM) or :data:`RECOMMENDATIONS_MODEL` (NDCG@10,
                ``min_ndcg_gain`` over popularity).
        """
        from forecasting.lifecycle.promotion import PromotionRule

        propensity = kind == PROPENSITY_MODEL
        return PromotionRule(
            metric="roc_auc" if propensity else "ndcg_at_10",
            direction="higher",
            min_gain=self.min_auc_gain if propensity else self.min_ndcg_gain,
            champion_tolerance=self.champion_tolerance,
            relative=False,
            sane_limit=self.min_auc if propensity else None,
        )


def _with_baselines(
    value: tuple[str, ...], known: tuple[str, ...], baselines: tuple[str, ...]
) -> tuple[str, ...]:
    unknown = [m for m in value if m not in known]
    if unknown:
        raise ValueError(f"unknown candidates {unknown}; choose from {list(known)}")
    return tuple(m for m in known if m in set(value) | set(baselines))
