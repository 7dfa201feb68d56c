"""Step ``build_features`` (per shard): the panel every model's features come from."""

from __future__ import annotations

import logging
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecasting.artifacts import (
    EXTRACT_BEHAVIOUR,
    FEATURES_CATALOGUE,
    FEATURES_MANIFEST,
    FEATURES_PANEL,
    FEATURES_SENTIMENT_MODEL,
    FEATURES_TEXT_MODEL,
)
from forecasting.extraction import read_partition
from forecasting.pipelines.demand.handoffs import Features, Validated
from forecasting.resources import Resources
from forecasting.storage import read_parquet, write_json, write_parquet

if TYPE_CHECKING:
    import pandas as pd

    from forecasting.text.sentiment import SentimentModel

log = logging.getLogger(__name__)

__all__ = ["build_features_step"]


def build_features_step(run_day: date, validated: Validated, resources: Resources) -> Features:
    """*Per shard*: the panel every model's declared features are computed from.

    With a catalogue in the extract, the text model is fitted on all of it (every shard
    fits the same one: the same catalogue, the same seed) and, when the catalogue's text
    tells products apart (:func:`~forecasting.features.text.informative_text`), each
    series' embedding and text neighbours are attached to the panel
    (:func:`~forecasting.features.text.attach_text`); with reviews (``extract.reviews``, rows), their daily counts too
    (:func:`~forecasting.features.text.attach_reviews`). The model is saved as
    :data:`FEATURES_TEXT_MODEL` beside the panel and the manifest's ``text`` and ``reviews``
    say what was attached. With web behaviour in the extract (:data:`EXTRACT_BEHAVIOUR`),
    its daily counts are attached too (:func:`~forecasting.features.behaviour.
    attach_behaviour`: covered from the file's first day to the run's day, missing before)
    and the manifest's ``behaviour`` says so; the models read them only where their
    :class:`~forecasting.features.FeatureSpec` has ``behaviour``, and only up to each row's
    origin (scoring: the run's day). Training and scoring read this one panel, so they see
    the same text and behaviour. Idempotent: the folder is rewritten as a whole for the run's day.

    Args:
        run_day: The run's day.
        validated: The shard's validated extract.
        resources: The task's storage.

    Returns:
        The features folder, the shard, its ``series`` and (with series) its
        ``history_days`` and ``future_days``.
    """
    import pandas as pd

    from forecasting.features import FeatureSpec, Panel
    from forecasting.features.behaviour import attach_behaviour
    from forecasting.features.text import (
        ATTACHED_DIMENSIONS,
        ATTACHED_NEIGHBOURS,
        attach_reviews,
        attach_text,
        informative_text,
    )
    from forecasting.storage import upload_dir
    from forecasting.text import TextEmbedding

    storage, part = resources.storage, validated.shard
    extract, manifest = read_partition(storage.open(validated.extract_uri))
    spec = FeatureSpec()
    info: dict[str, Any] = {
        "shard": part.to_dict(),
        "series": int(extract.history["unique_id"].nunique()),
    }
    text: dict[str, Any] = {"attached": False}
    reviews: dict[str, Any] = {"attached": False}
    behaviour: dict[str, Any] = {"attached": False}
    with storage.write_stage(run_day, "features", part.name) as folder:
        if info["series"]:
            panel = Panel.from_long(extract.history, extract.future, extract.events)
            catalogue = getattr(extract, "catalogue", None)
            review_days = getattr(extract, "reviews", None)
            web = _extract_behaviour(extract, storage.open(validated.extract_uri))
            # The days the event store covers (the extract's manifest; else the file's).
            covered = manifest.get("behaviour") or {}
            first_day = covered.get("first_day") or (
                pd.Timestamp(web["ds"].min()) if web is not None and len(web) else None
            )
            if web is not None and first_day is not None:
                panel = attach_behaviour(
                    panel,
                    web,
                    first_day=pd.Timestamp(first_day),
                    last_day=pd.Timestamp(covered["last_day"]) if covered.get("last_day") else None,
                )
                behaviour = {
                    "attached": True,
                    "rows": len(web),
                    "first_day": str(pd.Timestamp(first_day).date()),
                    "last_day": str(
                        min(
                            pd.Timestamp(covered.get("last_day") or panel.dates[-1]),
                            panel.dates[panel.last_history_index],
                        ).date()
                    ),
                }
            with tempfile.TemporaryDirectory() as tmp:
                if catalogue is not None and len(catalogue):
                    embedding = TextEmbedding.fit(catalogue)
                    model_dir = Path(tmp) / "text"
                    embedding.save(model_dir / FEATURES_TEXT_MODEL)
                    upload_dir(model_dir, folder)
                    # The products and their text: what score forecasts new products from.
                    write_parquet(catalogue, folder / FEATURES_CATALOGUE)
                    text = {
                        "attached": informative_text(catalogue),
                        "file": FEATURES_TEXT_MODEL,
                        "products": len(catalogue),
                        "dimensions": embedding.dimensions,
                    }
                    if text["attached"]:
                        panel = attach_text(panel, embedding)
                        text.update(components=ATTACHED_DIMENSIONS, neighbours=ATTACHED_NEIGHBOURS)
                    else:
                        text["reason"] = "names are a template and a number: no text to use"
                if review_days is not None and len(review_days):
                    daily, sentiment = _daily_reviews(review_days)
                    panel = attach_reviews(panel, daily)
                    reviews = {
                        "attached": True,
                        "reviews": len(review_days),
                        "review_days": len(daily),
                        "sentiment": sentiment is not None,
                    }
                    if sentiment is not None:
                        model_dir = Path(tmp) / "sentiment"
                        sentiment.save(model_dir / FEATURES_SENTIMENT_MODEL)
                        upload_dir(model_dir, folder)
                        reviews["file"] = FEATURES_SENTIMENT_MODEL
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
                "text": text,
                "reviews": reviews,
                "behaviour": behaviour,
                **info,
            },
        )
    return Features.from_dict({"uri": storage.uri(folder), **info})


def _extract_behaviour(extract: Any, folder: Any) -> pd.DataFrame | None:
    """The shard's daily web behaviour: the extract's own frame when it carries one, else
    :data:`EXTRACT_BEHAVIOUR` beside its partition; ``None`` when the source has no events."""
    frame = getattr(extract, "behaviour", None)
    if frame is not None:
        return frame
    from upath import UPath

    path = UPath(folder) / EXTRACT_BEHAVIOUR
    return read_parquet(path) if path.exists() else None


def _daily_reviews(reviews: pd.DataFrame) -> tuple[pd.DataFrame, SentimentModel | None]:
    """The extract's reviews per SKU and day, with sentiment when a model can be fitted.

    The sentiment model is fitted on the shard's reviews of the window (their ratings are
    its labels); too few reviews or a single rating leave the sentiment NaN.
    """
    from forecasting.text.reviews import daily_reviews
    from forecasting.text.sentiment import SentimentModel

    try:
        sentiment: SentimentModel | None = SentimentModel().fit(reviews)
    except ValueError as exc:
        log.info("no review sentiment: %s", exc)
        sentiment = None
    return daily_reviews(reviews, sentiment), sentiment
