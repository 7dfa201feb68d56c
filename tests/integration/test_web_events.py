"""Web events on a real MariaDB: both readers, pseudonyms, opt-outs, checks, the pipeline's
steps and ``search_demand``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from upath import UPath

from forecasting.artifacts import EXTRACT_BEHAVIOUR
from forecasting.behaviour.store import EventStore
from forecasting.config import DataChecks, PipelineConfig, Settings
from forecasting.db import make_engine
from forecasting.pipelines.demand.steps.extract import extract_step
from forecasting.pipelines.demand.steps.publish import publish_searches
from forecasting.pipelines.demand.steps.sync_source import sync_source_step
from forecasting.publishing.search import read_search_demand
from forecasting.resources import Resources
from forecasting.sources import load_shop
from forecasting.storage import Storage
from forecasting.validation import ValidationFailedError

from ..stored import stored_bytes
from ..unit.behaviour.shop import LAST_DAY, RAW_IDS, base_events, event, event_shop

pytestmark = pytest.mark.integration

KEY = b"integration-key-0123456789"


def synced(url: str, root: Path, reader: str) -> EventStore:
    store = EventStore.for_source(UPath(root), url, "UTC", "UTC")
    store.sync(
        make_engine(url),
        LAST_DAY,
        days=14,
        lookback_days=1,
        shop_tz="UTC",
        source_tz="UTC",
        key=KEY,
        catalogue=event_shop().products,
        checks=DataChecks(),
        reader=reader,  # type: ignore[arg-type]
    )
    return store


def test_both_readers_store_the_same_behaviour_without_raw_ids(
    mysql_url: str, tmp_path: Path
) -> None:
    load_shop(make_engine(mysql_url), event_shop())
    fast = synced(mysql_url, tmp_path / "cx", "connectorx")
    slow = synced(mysql_url, tmp_path / "pymysql", "sqlalchemy")
    first = date(2024, 6, 17)
    daily = fast.read_daily(first, LAST_DAY)
    pd.testing.assert_frame_equal(daily, slow.read_daily(first, LAST_DAY))
    pd.testing.assert_frame_equal(
        fast.read_searches(first, LAST_DAY), slow.read_searches(first, LAST_DAY)
    )
    assert "SKU-2" not in set(daily["sku"])  # only the opted-out customer touched it
    assert daily["views"].sum() == 3 and daily["cart_adds"].sum() == 1
    assert fast.cleaning(first, LAST_DAY).duplicate_events == 1
    for path, data in stored_bytes(tmp_path):
        for raw in RAW_IDS:
            assert raw.encode() not in data, f"{raw} stored in {path}"


def test_a_bad_event_type_stops_the_sync_on_mariadb(mysql_url: str, tmp_path: Path) -> None:
    bad = event("e-bad", "2024-06-30 10:00:00", "sess-x", None, "purchase", "SKU-1")
    load_shop(make_engine(mysql_url), event_shop([*base_events(), bad]))
    with pytest.raises(
        ValidationFailedError,
        match=r"(?s)FAILED on table web_events: .*event_type.*purchase.*e-bad",
    ):
        synced(mysql_url, tmp_path, "connectorx")
    assert not list(tmp_path.rglob("*.parquet"))


def test_the_pipeline_extracts_behaviour_and_publishes_search_demand(
    mysql_url: str, tmp_path: Path
) -> None:
    engine = make_engine(mysql_url)
    load_shop(engine, event_shop())
    settings = Settings.from_env(env={}, data_dir=tmp_path / "data", source_url=mysql_url)
    resources = Resources.from_settings(settings, Storage.from_uri(settings.storage_uri))
    config = PipelineConfig(history_days=60, horizon=7, shards=2, lookback_days=1)
    orders = sync_source_step(LAST_DAY, config, resources)
    extracts = [extract_step(LAST_DAY, o, config, resources) for o in orders]
    behaviour = pd.concat(
        pd.read_parquet(Path(e.uri.removeprefix("file://")) / EXTRACT_BEHAVIOUR) for e in extracts
    )
    assert sorted(behaviour["sku"]) == ["SKU-1", "SKU-1", "SKU-3"]  # each SKU in one shard

    assert publish_searches(LAST_DAY, resources) == 2
    first = read_search_demand(engine, date(2024, 6, 1), LAST_DAY)
    assert first["query"].tolist() == ["unicorn lamp", "wool scarf"]
    assert first["matching_products"].tolist() == [0, 1]

    # The same date again: the store re-reads the look-back days only, and the rows of the
    # days it republishes are the same.
    again = sync_source_step(LAST_DAY, config, resources)
    assert again[0].events_uri == orders[0].events_uri
    assert publish_searches(LAST_DAY, resources) == 2
    pd.testing.assert_frame_equal(read_search_demand(engine, date(2024, 6, 1), LAST_DAY), first)
