"""The ``customer_models`` DAG under Airflow (``airflow dags test``) on a generated shop with
the bad inputs of real order data (an order without a customer, a one-order customer, a
customer who asked to be forgotten): SQLite and the real MariaDB, a re-run of the same
date, a missing key, and a search for raw customer ids in everything the run stored."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from forecasting.config import Settings
from forecasting.customers.config import PROPENSITY_MODEL, RECOMMENDATIONS_MODEL
from forecasting.customers.privacy import pseudonymise
from forecasting.db import make_engine
from forecasting.publishing.customers import read_customer_tables
from forecasting.registry.models import get_champion
from forecasting.registry.tracking import configure_mlflow
from forecasting.sources import load_shop
from forecasting.sources.shop import ShopData

from ..stored import stored_bytes

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LOGICAL_DATE = "2024-07-01"
RUN_DAY = date(2024, 6, 30)
KEY = "test-key-0123456789abcdef"
#: Distinctive raw ids: any of them found in stored bytes is a leak.
RAW_PREFIX = "RAWCUST"
ONE_ORDER = f"{RAW_PREFIX}-ONE-ORDER"
FORGOTTEN = f"{RAW_PREFIX}-FORGET-ME"


@pytest.fixture(scope="module")
def customer_shop() -> ShopData:
    """40 SKUs x 1 location x 420 days (about 950 customers), raw ids made distinctive,
    plus an order without a customer, a customer with one order and an opted-out one."""
    from forecasting.sources.synthetic import generate_shop

    shop = generate_shop(n_skus=40, n_locations=1, days=420, end_date="2024-06-30", seed=3)
    orders = shop.orders.copy()
    orders["customer_id"] = orders["customer_id"].str.replace("C", f"{RAW_PREFIX}-", regex=False)
    completed = orders.index[orders["status"] == "completed"]
    orders.loc[completed[-1], "customer_id"] = None  # an order without a customer
    orders.loc[completed[-2], "customer_id"] = ONE_ORDER  # a customer with one order
    # The most active customer asks to be forgotten.
    busiest = orders["customer_id"].value_counts().index[0]
    orders.loc[orders["customer_id"] == busiest, "customer_id"] = FORGOTTEN
    optouts = pd.DataFrame({"customer_id": [FORGOTTEN], "opted_out_on": ["2024-06-01"]})
    return ShopData(
        shop.products,
        shop.locations,
        orders,
        shop.order_lines,
        shop.promotions,
        shop.calendar_events,
        optouts,
    )


def ok(proc) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "DagRun Finished" in out and "state=success" in out


def test_customer_models_on_sqlite_publish_private_idempotent_rows(
    customer_shop: ShopData, dags_test, airflow_home: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    # The shop's own database (raw ids: it is the source) lives outside what the pipeline
    # stores; the warehouse, MLflow and the hand-off storage live in ``data``.
    env = {
        "FORECASTING_CUSTOMER_KEY": KEY,
        "FORECASTING_SOURCE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
        "FORECASTING_WAREHOUSE_URL": f"sqlite:///{data / 'warehouse.db'}",
    }
    settings = Settings.from_env(env={"FORECASTING_DATA_DIR": str(data), **env})
    load_shop(make_engine(settings.source_url), customer_shop)

    proc = dags_test(LOGICAL_DATE, data, {}, env, dag_id="customer_models")
    ok(proc)
    warehouse = make_engine(settings.warehouse_url)
    propensity, recs = read_customer_tables(warehouse, RUN_DAY)
    key = KEY.encode()
    pseudo = dict(
        zip(
            customer_shop.orders["customer_id"].dropna().unique(),
            pseudonymise(customer_shop.orders["customer_id"].dropna().unique(), key),
            strict=True,
        )
    )
    # Every identified customer with a purchase is scored, except the forgotten one.
    assert pseudo[FORGOTTEN] not in set(propensity["customer_pseudonym"])
    assert pseudo[FORGOTTEN] not in set(recs["customer_pseudonym"])
    assert pseudo[ONE_ORDER] in set(propensity["customer_pseudonym"])
    assert propensity["customer_pseudonym"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert propensity["probability"].between(0, 1).all()
    assert (propensity["expected_orders"] >= propensity["probability"] - 1e-9).all()
    assert sorted(propensity["decile"].unique()) == list(range(1, 11))
    per_customer = recs.groupby("customer_pseudonym")["rank"].agg(["min", "max", "size"])
    assert (per_customer["min"] == 1).all() and (per_customer["size"] == 10).all()
    assert not recs.duplicated(["customer_pseudonym", "sku"]).any()
    assert set(recs["sku"]) <= set(customer_shop.products["sku"])

    # Tracked and promoted like the demand model, with the plots analysts look for.
    experiment = configure_mlflow(settings.tracking_uri, settings.artifact_root, PROPENSITY_MODEL)
    runs = mlflow.search_runs(
        [experiment], "tags.logical_date = '2024-06-30'", output_format="list"
    )
    assert len(runs) == 1 and runs[0].data.tags["promotion.decision"] == "promoted"
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(runs[0].info.run_id)}
    assert {"reliability.png", "lift.png", "backtest_metrics.csv", "validation.json"} <= artifacts
    assert runs[0].data.metrics["backtest_roc_auc"] > runs[0].data.metrics["baseline_roc_auc"]
    assert get_champion(PROPENSITY_MODEL) is not None
    assert get_champion(RECOMMENDATIONS_MODEL) is not None
    assert str(propensity["model_version"].iloc[0]) == get_champion(PROPENSITY_MODEL).version

    # Re-running the date republishes the same rows, never duplicates.
    ok(dags_test(LOGICAL_DATE, data, {}, env, dag_id="customer_models"))
    again, recs_again = read_customer_tables(warehouse, RUN_DAY)
    pd.testing.assert_frame_equal(again, propensity)
    pd.testing.assert_frame_equal(recs_again, recs)

    # No raw customer id anywhere the run stored: partitions, MLflow's database and
    # artifacts (models, input examples, parquet, zips), the Airflow logs and output.
    raw = [c for c in customer_shop.orders["customer_id"].dropna().unique()]
    assert all(c.startswith(RAW_PREFIX) for c in raw)
    output = (Path("dags test output"), (proc.stdout + proc.stderr).encode())
    haystacks = [*stored_bytes(data), *stored_bytes(airflow_home / "logs"), output]
    leaks = [str(p) for p, blob in haystacks if RAW_PREFIX.encode() in blob]
    assert not leaks, leaks
    searched = {p.name for p, _ in haystacks}
    assert {"mlflow.db", "warehouse.db", "lines.parquet", "model.pkl"} <= searched
    assert "forecasting task extract" in proc.stdout + proc.stderr  # the task logs were searched


def test_customer_models_need_a_key(customer_shop: ShopData, dags_test, tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings.from_env(env={"FORECASTING_DATA_DIR": str(data)})
    load_shop(make_engine(settings.source_url), customer_shop)
    proc = dags_test(LOGICAL_DATE, data, {}, {}, dag_id="customer_models")
    out = proc.stdout + proc.stderr
    assert "state=failed" in out or proc.returncode != 0
    assert "no customer pseudonymisation key" in out
    propensity, _ = read_customer_tables(make_engine(settings.warehouse_url), RUN_DAY)
    assert propensity.empty


def test_customer_models_on_mariadb(
    customer_shop: ShopData, dags_test, mysql_url, tmp_path
) -> None:
    data = tmp_path / "data"
    load_shop(make_engine(mysql_url), customer_shop)
    env = {
        "FORECASTING_CUSTOMER_KEY": KEY,
        "FORECASTING_SOURCE_URL": mysql_url,
        "FORECASTING_WAREHOUSE_URL": mysql_url,
    }
    light = {"propensity_models": ["bgnbd"], "recommenders": ["repeat"]}  # baselines + these
    ok(dags_test(LOGICAL_DATE, data, light, env, dag_id="customer_models"))
    propensity, recs = read_customer_tables(make_engine(mysql_url), RUN_DAY)
    forgotten = pseudonymise([FORGOTTEN], KEY.encode()).iloc[0]
    assert len(propensity) > 500 and len(recs) == 10 * len(propensity)
    assert forgotten not in set(propensity["customer_pseudonym"])
