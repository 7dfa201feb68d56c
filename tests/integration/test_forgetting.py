"""Forgetting means forgetting (issue: runs that cannot trip over each other).

A customer is scored on 2024-06-29, then opts out. The run of 2024-06-30 rewrites every
stored customer partition of every date without them, deletes their published rows of
every date, and retrains both customer models without them (rule ``optout``); then no
stored byte -- partitions (parquet decompressed), MLflow's database and artifacts (zip
members decompressed), the warehouse -- holds their pseudonym.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from forecasting.config import Settings
from forecasting.customers.config import PROPENSITY_MODEL, RECOMMENDATIONS_MODEL, CustomerConfig
from forecasting.customers.privacy import pseudonymise
from forecasting.db import make_engine
from forecasting.pipelines.customers.run import run_customer_pipeline
from forecasting.publishing.customers import read_customer_tables
from forecasting.registry.tracking import configure_mlflow
from forecasting.sources import load_shop
from forecasting.storage import Storage

from ..dags.test_customer_models_run import KEY
from ..stored import stored_bytes

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LIGHT = CustomerConfig(propensity_models=("bgnbd",), recommenders=("repeat",))


def test_an_opted_out_customer_leaves_every_stored_byte_and_the_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecasting.sources.synthetic import generate_shop

    monkeypatch.setenv("FORECASTING_CUSTOMER_KEY", KEY)
    shop = generate_shop(n_skus=40, n_locations=1, days=420, end_date="2024-06-30", seed=3)
    customer = shop.orders["customer_id"].value_counts().index[10]  # a regular customer
    pseudonym = pseudonymise([customer], KEY.encode()).iloc[0]
    source = f"sqlite:///{tmp_path / 'shop.db'}"  # the shop (raw ids) lives outside ``data``
    data = tmp_path / "data"
    settings = Settings.from_env(
        env={}, data_dir=data, source_url=source, warehouse_url=f"sqlite:///{data / 'wh.db'}"
    )
    storage = Storage.from_uri(settings.storage_uri)
    load_shop(make_engine(source), shop)
    first = run_customer_pipeline(date(2024, 6, 29), settings, LIGHT, storage, KEY.encode())
    warehouse = make_engine(settings.warehouse_url)
    scored, _ = read_customer_tables(warehouse, date(2024, 6, 29))
    assert pseudonym in set(scored["customer_pseudonym"])  # they were there
    assert any(pseudonym.encode() in blob for _, blob in stored_bytes(data))

    optout = pd.DataFrame({"customer_id": [customer], "opted_out_on": ["2024-06-30"]})
    load_shop(make_engine(source), dataclasses.replace(shop, customer_optouts=optout))
    second = run_customer_pipeline(date(2024, 6, 30), settings, LIGHT, storage, KEY.encode())

    leaks = [str(p) for p, blob in stored_bytes(data) if pseudonym.encode() in blob]
    assert not leaks, leaks
    searched = {p.name for p, _ in stored_bytes(data)}
    assert {"lines.parquet", "propensity.parquet", "wh.db", "mlflow.db", "model.pkl"} <= searched
    for day in (date(2024, 6, 29), date(2024, 6, 30)):
        propensity, recs = read_customer_tables(warehouse, day)
        assert len(propensity) > 100 and len(recs) > 1000
    # Both models were retrained without them (the day before's champions were not), and
    # the new versions serve.
    for kind in (PROPENSITY_MODEL, RECOMMENDATIONS_MODEL):
        key = "propensity" if kind == PROPENSITY_MODEL else "recommendations"
        before, after = first[key], second[key]
        assert after["registered_version"] == after["version"] != before["version"]
        configure_mlflow(settings.tracking_uri, settings.artifact_root, kind)
        assert mlflow.get_run(after["run_id"]).data.tags["training.rule"] == "optout"
