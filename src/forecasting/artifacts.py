"""The names of the files the pipelines write: one catalogue instead of string literals.

Two kinds: files in a run's stages on storage (``runs/ds=<day>/<stage>/<shard>/<file>``,
read back by later steps and by the planner report) and artefacts of the date's MLflow run
(what an analyst opens in the MLflow UI). A name changes here or nowhere.
"""

from __future__ import annotations

__all__ = [
    "BACKTEST_CANDIDATES",
    "BACKTEST_LAUNCHES",
    "BACKTEST_LEADTIME",
    "BACKTEST_LIVE_STATS",
    "BACKTEST_PLOT",
    "BACKTEST_PLOT_HISTORY",
    "BACKTEST_STATS",
    "CATALOGUE_SOURCE",
    "CUSTOMER_COUNTS",
    "CUSTOMER_LINES",
    "CUSTOMER_PROPENSITY",
    "CUSTOMER_RECOMMENDATIONS",
    "EXTRACT_BEHAVIOUR",
    "EXTRACT_CATALOGUE",
    "EXTRACT_DEMAND",
    "EXTRACT_EVENTS",
    "EXTRACT_FUTURE",
    "EXTRACT_MANIFEST",
    "EXTRACT_PRICES",
    "EXTRACT_REVIEWS",
    "FEATURES_CATALOGUE",
    "FEATURES_MANIFEST",
    "FEATURES_PANEL",
    "FEATURES_SENTIMENT_MODEL",
    "FEATURES_TEXT_MODEL",
    "FIT_MODEL",
    "FIT_SUMMARY",
    "LEADTIME_ARTIFACT",
    "MLFLOW_BACKTEST_METRICS_CSV",
    "MLFLOW_BACKTEST_METRICS_TABLE",
    "MLFLOW_BACKTEST_PLOT",
    "MLFLOW_BACKTEST_WINDOWS",
    "MLFLOW_CUTOFFS",
    "MLFLOW_LAUNCH_BACKTEST",
    "MLFLOW_LEADTIME_COVERAGE",
    "MLFLOW_LIFT_CHART",
    "MLFLOW_PLAUSIBILITY",
    "MLFLOW_RECOMMENDER_PARAMS",
    "MLFLOW_RELIABILITY_PLOT",
    "MLFLOW_RELIABILITY_TABLE",
    "MLFLOW_TEXT_DIR",
    "MLFLOW_VALIDATION_DIR",
    "MONITOR_SUMMARY",
    "MONITOR_VERDICT",
    "SCORES_CHANGES",
    "SCORES_DRIVERS",
    "SCORES_FORECASTS",
    "SCORES_HISTORY",
    "SCORES_LAUNCHES",
    "SCORES_LEADTIME",
    "SCORES_MODEL",
    "SCORES_REPLENISHMENT",
    "STOCK_FRAMES",
    "VALIDATION_REPORT",
]

# ------------------------------------------------------------------ a run's stages on storage
#: ``catalog/source.json``: the day's quality counts and store sync facts.
CATALOGUE_SOURCE = "source.json"
#: ``catalog/``: the stock position replenishment starts from
#: (:class:`~forecasting.extraction.stock.Stock`, one file per frame), with a policy only.
STOCK_FRAMES = {
    "on_hand": "stock_on_hand.parquet",
    "open_orders": "stock_open_orders.parquet",
    "policy": "replenishment_policy.parquet",
}
#: ``extract/<shard>/``: history (:data:`~forecasting.schema.EXTRACT_COLUMNS`), the
#: horizon's covariates (:data:`~forecasting.schema.FUTURE_COLUMNS`), events, prices, and
#: the manifest (:class:`~forecasting.extraction.ExtractResult`).
EXTRACT_DEMAND = "demand.parquet"
EXTRACT_FUTURE = "future.parquet"
EXTRACT_EVENTS = "events.parquet"
EXTRACT_PRICES = "prices.parquet"
EXTRACT_CATALOGUE = "catalogue.parquet"
#: ``extract/<shard>/``: the shard's reviews from the optional ``product_reviews`` table
#: (:attr:`~forecasting.extraction.assemble.Extract.reviews`); written only when there are any.
EXTRACT_REVIEWS = "reviews.parquet"
#: ``extract/<shard>/``: the shard's daily web behaviour (views, sessions, cart adds and
#: removes, wishlist adds, matched searches per SKU, location and day:
#: :data:`forecasting.behaviour.DAILY_COLUMNS`) from the event store; written only when the
#: source has web events.
EXTRACT_BEHAVIOUR = "behaviour.parquet"
EXTRACT_MANIFEST = "manifest.json"
#: ``validate/<shard>/`` and ``check/``: a :class:`~forecasting.validation.ValidationReport`.
VALIDATION_REPORT = "validation.json"
#: ``features/<shard>/features.json``: the feature spec, names and window.
FEATURES_MANIFEST = "features.json"
#: ``features/<shard>/panel/``: the saved :class:`~forecasting.features.Panel`.
FEATURES_PANEL = "panel"
#: ``features/<shard>/``: the products with their text (the whole catalogue) and the run's
#: text model fitted on it (:class:`~forecasting.text.TextEmbedding`).
FEATURES_CATALOGUE = "catalogue.parquet"
FEATURES_TEXT_MODEL = "text_embedding.joblib"
#: ``features/<shard>/``: the review sentiment model
#: (:class:`~forecasting.text.sentiment.SentimentModel`), when the shard has enough reviews.
FEATURES_SENTIMENT_MODEL = "sentiment_model.joblib"
#: ``backtest/<shard>/``: every candidate's per-series window statistics.
BACKTEST_STATS = "stats.parquet"
#: ``backtest/<shard>/``: per candidate its seconds, non-finite rows, memory, calibrator.
BACKTEST_CANDIDATES = "candidates.json"
#: ``backtest/<shard>/``: forecasts and history of the backtest plot.
BACKTEST_PLOT = "plot.parquet"
BACKTEST_PLOT_HISTORY = "plot_history.parquet"
#: ``backtest/<shard>/``: lead-time totals of the backtest windows.
BACKTEST_LEADTIME = "leadtime.parquet"
#: ``backtest/<shard>/``: the serving champion's live statistics (when it has any).
BACKTEST_LIVE_STATS = "live_stats.parquet"
#: New products of each window forecast as known launches vs baselines
#: (:func:`forecasting.text.launch.backtest_launches`).
BACKTEST_LAUNCHES = "launches.parquet"
#: ``fit/<shard>/model/``: the fitted forecaster; ``fit.json`` its winner and plausibility.
FIT_MODEL = "model"
FIT_SUMMARY = "fit.json"
#: ``scores/<shard>/``: the forecasts, their lead-time quantiles and the model's facts.
SCORES_FORECASTS = "forecasts.parquet"
SCORES_LEADTIME = "leadtime.parquet"
SCORES_MODEL = "model.json"
#: ``scores/<shard>/``: each forecast's drivers (:mod:`forecasting.explain`), the change of
#: each series' total since the previous run, and the replenishment suggestions.
SCORES_DRIVERS = "drivers.parquet"
SCORES_CHANGES = "changes.parquet"
SCORES_REPLENISHMENT = "replenishment.parquet"
#: ``scores/<shard>/``: the scored series' daily units over the retained days (charts).
SCORES_HISTORY = "history.parquet"
#: ``scores/<shard>/``: the shard's new products (launching in the horizon or young),
#: their horizon totals and text neighbours (:func:`forecasting.scoring.cold_start.launch_summary`).
SCORES_LAUNCHES = "launches.parquet"
#: ``monitor/``: the day's accuracy aggregates and the decay verdict (for the report).
MONITOR_SUMMARY = "summary.parquet"
MONITOR_VERDICT = "verdict.json"

# ------------------------------------------------------------------ the date's MLflow run
#: The fitted lead-time quantiles, logged in the MLflow run that registered a model version
#: and read back when scoring with it.
LEADTIME_ARTIFACT = "leadtime_calibration.json"
#: Folder of the validation reports (``catalogue.json`` and one per shard).
MLFLOW_VALIDATION_DIR = "validation"
MLFLOW_PLAUSIBILITY = "plausibility.json"
MLFLOW_BACKTEST_METRICS_CSV = "backtest_metrics.csv"
MLFLOW_BACKTEST_METRICS_TABLE = "backtest_metrics.json"
MLFLOW_BACKTEST_WINDOWS = "backtest_windows.csv"
MLFLOW_BACKTEST_PLOT = "backtest_plot.png"
MLFLOW_LEADTIME_COVERAGE = "leadtime_coverage.csv"
#: The cold-start backtest table (every shard's) and the run's text model.
MLFLOW_LAUNCH_BACKTEST = "launches/backtest.csv"
MLFLOW_TEXT_DIR = "text"

# ------------------------------------------------------------------ the customer pipeline
#: ``customers/<day>/extract/``: the window's order lines and their counts.
CUSTOMER_LINES = "lines.parquet"
CUSTOMER_COUNTS = "counts.json"
#: ``customers/<day>/score/``: what publish writes to the warehouse.
CUSTOMER_PROPENSITY = "propensity.parquet"
CUSTOMER_RECOMMENDATIONS = "recommendations.parquet"
#: The customer models' MLflow runs: calibration, lift and the backtest's cutoffs.
MLFLOW_RELIABILITY_PLOT = "reliability.png"
MLFLOW_RELIABILITY_TABLE = "reliability.json"
MLFLOW_LIFT_CHART = "lift.png"
MLFLOW_CUTOFFS = "cutoffs.json"
MLFLOW_RECOMMENDER_PARAMS = "recommender_params.json"
