import pytest
import sqlalchemy as sa

from forecasting.db import make_engine, render_sql


def test_render_strips_comments_and_keeps_bind_params() -> None:
    sql = render_sql("extract/select_order_lines", "sqlite")
    assert "--" not in sql
    assert ":ts_start" in sql and ":ts_end" in sql and ":excluded_category" in sql
    assert ":offset_modifier" in sql and ":offset_seconds" in render_sql(
        "extract/select_order_lines", "mysql"
    )
    # Values are never templated into the text.
    assert "2024" not in sql


def test_render_branches_only_on_dialect() -> None:
    mysql = render_sql("schema/create_source_tables", "mysql")
    sqlite = render_sql("schema/create_source_tables", "sqlite")
    assert "ENGINE=InnoDB" in mysql and "utf8mb4_bin" in mysql
    assert "ENGINE" not in sqlite and "CREATE TABLE IF NOT EXISTS orders" in sqlite
    with pytest.raises(ValueError, match="dialect"):
        render_sql("schema/create_source_tables", "oracle")


def test_missing_sql_file_is_a_clear_error() -> None:
    with pytest.raises(FileNotFoundError, match="no_such_file"):
        render_sql("extract/no_such_file", "sqlite")


def test_mysql_urls_get_a_driver_and_utf8mb4() -> None:
    engine = make_engine("mysql://u:p@127.0.0.1:3306/db")
    assert engine.url.drivername in ("mysql+mysqldb", "mysql+pymysql")
    assert engine.url.query["charset"] == "utf8mb4"
    assert isinstance(engine, sa.Engine)


@pytest.mark.parametrize(
    "name", ["demand_forecast", "x; DROP TABLE orders", "a b", "na\u00efve", "t`x", "1abc", ""]
)
def test_only_plain_identifiers_reach_sql(name: str) -> None:
    from forecasting.db import safe_identifier

    if name == "demand_forecast":
        assert safe_identifier(name) == name
    else:
        with pytest.raises(ValueError, match="not a safe SQL identifier"):
            safe_identifier(name)


def test_templates_accept_only_safe_identifiers() -> None:
    sql = render_sql("schema/create_forecast_tables", "mysql", key_collation="utf8mb4_nopad_bin")
    assert "COLLATE utf8mb4_nopad_bin" in sql and "VARCHAR(255)" in sql
    with pytest.raises(ValueError, match="not a safe SQL identifier"):
        render_sql("schema/create_forecast_tables", "mysql", key_collation="x; DROP TABLE y")
