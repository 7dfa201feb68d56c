"""The demand pipeline's steps with and without web events (SQLite): the work order, the
shard extract's behaviour file and manifest, ``search_demand``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from forecasting.artifacts import EXTRACT_BEHAVIOUR, EXTRACT_MANIFEST
from forecasting.config import PipelineConfig, Settings
from forecasting.db import make_engine
from forecasting.pipelines.demand.handoffs import WorkOrder
from forecasting.pipelines.demand.steps.extract import extract_step
from forecasting.pipelines.demand.steps.publish import publish_searches
from forecasting.pipelines.demand.steps.sync_source import sync_source_step
from forecasting.publishing.search import read_search_demand
from forecasting.resources import Resources
from forecasting.sources import load_shop
from forecasting.storage import Storage

from .shop import LAST_DAY, event_shop

CONFIG = PipelineConfig(history_days=60, horizon=7, shards=1, lookback_days=1)


def run(url: str, data: Path) -> tuple[Resources, list[WorkOrder], list[Path]]:
    settings = Settings.from_env(env={}, data_dir=data, source_url=url)
    resources = Resources.from_settings(settings, Storage.from_uri(settings.storage_uri))
    orders = sync_source_step(LAST_DAY, CONFIG, resources)
    extracts = [extract_step(LAST_DAY, o, CONFIG, resources) for o in orders]
    return resources, orders, [Path(e.uri.removeprefix("file://")) for e in extracts]


def contents(folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in sorted(folder.iterdir()):
        if path.name == EXTRACT_MANIFEST:
            manifest = json_of(path)
            manifest.pop("uri")
            out[path.name] = manifest
        elif path.suffix == ".parquet":
            out[path.name] = path.read_bytes()
    return out


def json_of(path: Path) -> dict[str, Any]:
    import json

    return dict(json.loads(path.read_text()))


def test_without_web_events_the_run_is_what_it_was(tmp_path: Path) -> None:
    # An empty web_events table and no table at all give the same extract: no behaviour
    # file, no manifest entry, no event store, no events in the work order.
    runs = []
    for name in ("empty", "dropped"):
        url = f"sqlite:///{tmp_path / name}.db"
        engine = make_engine(url)
        load_shop(engine, event_shop([]))
        if name == "dropped":
            with engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE web_events"))
        _, orders, folders = run(url, tmp_path / name)
        assert [o.events_uri for o in orders] == [None]
        assert not (tmp_path / name / "store" / "events").exists()
        runs.append(contents(folders[0]))
    assert runs[0] == runs[1]
    assert EXTRACT_BEHAVIOUR not in runs[0] and "behaviour" not in runs[0][EXTRACT_MANIFEST]
    old = {k: v for k, v in WorkOrder.from_dict({**orders[0].to_dict()}).to_dict().items()}
    del old["events_uri"]
    assert WorkOrder.from_dict(old).events_uri is None  # a work order written before events


def test_with_web_events_the_extract_has_behaviour_and_search_demand_is_published(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    load_shop(engine, event_shop())
    resources, orders, folders = run(sqlite_url, tmp_path / "data")
    assert orders[0].events_uri and "store/events" in orders[0].events_uri
    behaviour = pd.read_parquet(folders[0] / EXTRACT_BEHAVIOUR)
    assert behaviour.groupby("sku")["views"].sum().to_dict() == {"SKU-1": 3, "SKU-3": 0}
    manifest = json_of(folders[0] / EXTRACT_MANIFEST)["behaviour"]
    assert manifest["rows"] == len(behaviour) == 3
    assert manifest["duplicate_events"] == 1 and manifest["last_day"] == "2024-06-30"

    # The first sync read every kept day: search_demand gets them all.
    rows = publish_searches(LAST_DAY, resources)
    published = read_search_demand(engine, date(2024, 1, 1), LAST_DAY)
    assert rows == len(published) == 2
    assert published[
        ["query", "searches", "matching_products", "converted_sessions"]
    ].values.tolist() == [
        ["unicorn lamp", 1, 0, 0],
        ["wool scarf", 1, 1, 1],
    ]
    assert publish_searches(LAST_DAY, resources) == 2
    pd.testing.assert_frame_equal(read_search_demand(engine, date(2024, 1, 1), LAST_DAY), published)
