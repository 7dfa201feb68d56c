"""The bad-input catalog: each case injected into the source database (real MariaDB), then
extracted, validated (real Great Expectations) and checked as the pipeline does. Every case
is either cleaned by a documented rule, with a count, or stops the run at validation with
a message naming the rule, the table and sample rows (docs/operators/faults.md: "Bad input").
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from forecasting.artifacts import EXTRACT_DEMAND
from forecasting.config import PipelineConfig, Settings
from forecasting.db import make_engine
from forecasting.extraction import SchemaDriftError
from forecasting.pipelines.demand.steps.check import check_step
from forecasting.pipelines.demand.steps.extract import extract_step
from forecasting.pipelines.demand.steps.sync_source import sync_source_step
from forecasting.pipelines.demand.steps.validate import validate_step
from forecasting.resources import Resources
from forecasting.sources import load_shop
from forecasting.storage import Storage
from forecasting.validation import ValidationFailedError

from .test_trust import add_line

pytestmark = pytest.mark.integration

DAY = date(2024, 6, 30)
CONFIG = {"history_days": 420, "horizon": 14, "n_windows": 2}


@pytest.fixture()
def shop(small_shop, mysql_url: str) -> sa.Engine:
    engine = make_engine(mysql_url)
    load_shop(engine, small_shop)
    return engine


def checks(engine: sa.Engine, tmp_path: Path, day: date = DAY, **config: Any) -> dict[str, Any]:
    """Extraction, validation and the catalogue checks of one day; their outputs."""
    settings = Settings.from_env(env={}, data_dir=tmp_path / "data", source_url=str(engine.url))
    cfg = PipelineConfig(**{**CONFIG, **config})
    resources = Resources.from_settings(settings, Storage.from_uri(settings.storage_uri))
    sources = sync_source_step(day, cfg, resources)
    extracted = [extract_step(day, s, cfg, resources) for s in sources]
    validated = [validate_step(day, e, cfg, resources) for e in extracted]
    checked = check_step(day, validated, sources, cfg, resources)
    history = pd.concat(
        [pd.read_parquet(Path(e.uri.removeprefix("file://")) / EXTRACT_DEMAND) for e in extracted]
    )
    return {
        "sources": [s.to_dict() for s in sources],
        "validated": [v.to_dict() for v in validated],
        "checked": checked.to_dict(),
        "history": history,
    }


def demand(out: dict[str, Any], sku: str, day: str, location: str = "online") -> float:
    h = out["history"]
    row = h.loc[(h["sku"] == sku) & (h["location_id"] == location) & (h["ds"] == pd.Timestamp(day))]
    return float(row["y"].iloc[0])


def execute(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))


# ------------------------------------------------------------------ cleaned, with a count
def test_duplicate_order_lines_count_once(shop, tmp_path: Path) -> None:
    base = checks(shop, tmp_path / "a")
    before = demand(base, "SKU-00001", "2024-06-28")
    add_line(shop, "DUP1", "SKU-00001", "2024-06-28 10:00:00", 5)
    execute(
        shop,
        "INSERT INTO order_lines VALUES ('DUP1', 2, 'SKU-00001', 5, 10.00)",  # the same line again
    )
    out = checks(shop, tmp_path / "b")
    assert demand(out, "SKU-00001", "2024-06-28") == before + 5
    assert out["sources"][0]["sync"]["duplicate_lines"] == 1


def test_negative_and_zero_quantities_are_not_demand_and_counted(shop, tmp_path: Path) -> None:
    before = demand(checks(shop, tmp_path / "a"), "SKU-00002", "2024-06-28")
    add_line(shop, "RET1", "SKU-00002", "2024-06-28 10:00:00", -4)
    add_line(shop, "ZERO1", "SKU-00002", "2024-06-28 11:00:00", 0)
    out = checks(shop, tmp_path / "b")
    assert demand(out, "SKU-00002", "2024-06-28") == before
    quality = out["checked"]["quality"]
    assert quality["negative_quantity"] >= 1 and quality["zero_quantity"] == 1


def test_an_absurd_quantity_is_excluded_and_counted(shop, tmp_path: Path) -> None:
    add_line(shop, "HUGE1", "SKU-00002", "2024-06-27 12:00:00", 1_000_000)
    out = checks(shop, tmp_path)
    assert out["checked"]["cleaning"]["outlier_days"] == 1
    h = out["history"]
    day = h.loc[(h["sku"] == "SKU-00002") & (h["ds"] == pd.Timestamp("2024-06-27"))]
    assert day["y"].isna().any() and (day["excluded"] == "outlier").any()


def test_statuses_in_other_letter_cases_are_normalised_and_counted(shop, tmp_path: Path) -> None:
    before = demand(checks(shop, tmp_path / "a"), "SKU-00003", "2024-06-28")
    add_line(shop, "CXL1", "SKU-00003", "2024-06-28 09:00:00", 9, status="CANCELLED ")
    add_line(shop, "DONE1", "SKU-00003", "2024-06-28 09:30:00", 2, status="Completed")
    out = checks(shop, tmp_path / "b")
    assert demand(out, "SKU-00003", "2024-06-28") == before + 2
    assert out["checked"]["quality"]["status_not_canonical"] == 2


def test_orders_after_the_run_day_are_ignored_and_counted(shop, tmp_path: Path) -> None:
    add_line(shop, "LATE1", "SKU-00001", "2024-07-03 10:00:00", 7)
    out = checks(shop, tmp_path)
    assert out["history"]["ds"].max() == pd.Timestamp(DAY)
    assert out["checked"]["quality"]["future_orders"] == 1


def test_lines_without_a_catalogue_sku_or_location_are_counted(shop, tmp_path: Path) -> None:
    execute(
        shop,
        "ALTER TABLE order_lines MODIFY sku VARCHAR(64) NULL",
        "ALTER TABLE orders MODIFY location_id VARCHAR(64) NULL",
    )
    add_line(shop, "ORPH1", None, "2024-06-28 10:00:00", 3)
    add_line(shop, "ORPH2", "NOT-IN-CATALOGUE", "2024-06-28 10:00:00", 3)
    add_line(shop, "ORPH3", "SKU-00001", "2024-06-28 10:00:00", 3, location=None)
    add_line(shop, "ORPH4", "SKU-00001", "2024-06-28 10:00:00", 3, location="warehouse-9")
    quality = checks(shop, tmp_path)["checked"]["quality"]
    assert (quality["null_sku"], quality["unknown_sku"]) == (1, 1)
    assert (quality["null_location"], quality["unknown_location"]) == (1, 1)


def test_many_orphan_lines_stop_the_run(shop, tmp_path: Path) -> None:
    for i in range(300):
        add_line(shop, f"ORPH{i}", "NOT-IN-CATALOGUE", "2024-06-28 10:00:00", 1)
    with pytest.raises(ValidationFailedError, match="orphan_order_lines") as err:
        checks(shop, tmp_path)
    assert "order_lines x orders" in str(err.value) and "unknown_sku=300" in str(err.value)


def test_late_corrections_within_the_look_back_are_picked_up(shop, tmp_path: Path) -> None:
    checks(shop, tmp_path, day=date(2024, 6, 29))
    add_line(shop, "FIX1", "SKU-00004", "2024-06-27 10:00:00", 6)  # arrived after the 29th's run
    out = checks(shop, tmp_path, day=DAY)
    first = out["sources"][0]["sync"]
    assert not first["full"] and first["extracted"] == [["2024-06-23", "2024-06-30"]]  # 7 back
    assert out["history"]["ds"].max() == pd.Timestamp(DAY)
    assert demand(out, "SKU-00004", "2024-06-27") >= 6


def test_a_sku_that_stops_selling_is_no_longer_forecast(shop, tmp_path: Path) -> None:
    execute(
        shop,
        "DELETE l FROM order_lines l JOIN orders o ON o.order_id = l.order_id "
        "WHERE l.sku = 'SKU-00003' AND o.ordered_at >= '2024-03-01'",
    )
    out = checks(shop, tmp_path)
    assert out["checked"]["series"] == 12 and out["checked"]["active_series"] == 10


def test_a_sku_launched_the_day_before_is_extracted_and_active(shop, tmp_path: Path) -> None:
    execute(
        shop,
        "INSERT INTO products VALUES ('NEW-1', 'new', NULL, 'toys', 5.00, '2024-06-29')",
    )
    add_line(shop, "NEW1", "NEW-1", "2024-06-29 10:00:00", 2, unit_price=5.0)
    out = checks(shop, tmp_path)
    h = out["history"]
    assert h.loc[h["sku"] == "NEW-1", "ds"].min() == pd.Timestamp("2024-06-29")
    assert out["checked"]["active_series"] == 13
    assert out["checked"]["cleaning"]["series_launched_last_7_days"] == 1


def test_skus_with_surrounding_spaces_are_kept_verbatim_with_a_warning(
    shop, tmp_path: Path
) -> None:
    execute(shop, "INSERT INTO products VALUES (' PAD-1', 'pad', NULL, 'toys', 5.00, NULL)")
    add_line(shop, "PAD1", " PAD-1", "2024-06-28 10:00:00", 2, unit_price=5.0)
    out = checks(shop, tmp_path)
    assert " PAD-1" in set(out["history"]["sku"])
    assert out["checked"]["warnings"] >= 1


# ------------------------------------------------------------------ stopped at validation
@pytest.mark.parametrize(
    ("statements", "rule", "table"),
    [
        (
            ["UPDATE products SET list_price = 0 WHERE sku = 'SKU-00002'"],
            "column=price, min_value=0.0, strict_min=True",
            "demand (",
        ),
        (
            ["UPDATE products SET list_price = list_price * 1000 WHERE sku = 'SKU-00002'"],
            "column=price_ratio",
            "catalogue_prices (",
        ),
        (
            [
                "ALTER TABLE products MODIFY sku VARCHAR(400) NOT NULL",
                "ALTER TABLE order_lines MODIFY sku VARCHAR(400) NOT NULL",
                "INSERT INTO products VALUES (REPEAT('L', 300), 'long', NULL, 'toys', 5.00, NULL)",
                "INSERT INTO orders VALUES ('LONG1', 'c', 'online', '2024-06-28 10:00:00', 'completed')",
                "INSERT INTO order_lines VALUES ('LONG1', 1, REPEAT('L', 300), 2, 5.00)",
            ],
            "expect_column_value_lengths_to_be_between(column=sku, min_value=1, max_value=255)",
            "demand keys (distinct sku, location_id of ",
        ),
        (
            ["DELETE FROM order_lines", "DELETE FROM orders"],
            "demand_present",
            "demand (all shards)",
        ),
        (
            [
                "DELETE l FROM order_lines l JOIN orders o ON o.order_id = l.order_id "
                "WHERE o.ordered_at >= '2024-06-30'",
                "DELETE FROM orders WHERE ordered_at >= '2024-06-30'",
            ],
            "latest_day_volume",
            "demand (all shards, daily units)",
        ),
    ],
    ids=["price-zero", "price-1000x", "sku-too-long", "no-orders-at-all", "a-day-without-orders"],
)
def test_bad_data_stops_the_run_naming_rule_table_and_rows(
    shop, tmp_path: Path, statements: list[str], rule: str, table: str
) -> None:
    execute(shop, *statements)
    with pytest.raises(ValidationFailedError) as err:
        checks(shop, tmp_path)
    message = str(err.value)
    assert rule in message and f"FAILED on table {table}" in message
    assert "Full report: file://" in message


def test_a_renamed_source_column_is_named(shop, tmp_path: Path) -> None:
    execute(shop, "ALTER TABLE orders RENAME COLUMN ordered_at TO order_ts")
    with pytest.raises(SchemaDriftError, match="table 'orders' has no column 'ordered_at'") as err:
        checks(shop, tmp_path)
    assert "order_ts" in str(err.value)  # what the table has instead


def test_unknown_models_and_parameters_stop_the_run_before_it_reads_anything() -> None:
    with pytest.raises(ValidationError, match="unknown models"):
        PipelineConfig(models=("prophet",))
    with pytest.raises(ValidationError, match="did you mean 'hgb'"):
        PipelineConfig(model_params={"hbg": {"max_iter": 5}})
