-- Tables the planners read. A run date's rows are replaced in one transaction.
-- SKU and location keys are published exactly as the catalogue has them: on MySQL and
-- MariaDB with a binary NO PAD collation (utf8mb4_nopad_bin, or MySQL 8's utf8mb4_0900_bin), so "ABC" and "ABC " stay
-- two keys, and up to 255 characters (validation refuses longer keys before any training).
{% set engine = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin" if dialect == "mysql" else "" %}
{% set key = "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE " ~ key_collation if dialect == "mysql" else "VARCHAR(255)" %}

CREATE TABLE IF NOT EXISTS demand_forecast (
    run_date      DATE          NOT NULL,  -- the run's day: forecasts are made after it ends
    sku           {{ key }}     NOT NULL,
    location_id   {{ key }}     NOT NULL,
    target_date   DATE          NOT NULL,
    forecast      DOUBLE PRECISION NOT NULL,  -- point forecast (expected units)
    p10           DOUBLE PRECISION NOT NULL,
    p50           DOUBLE PRECISION NOT NULL,
    p90           DOUBLE PRECISION NOT NULL,
    model_name    VARCHAR(64)   NOT NULL,
    model_version VARCHAR(16)   NOT NULL,
    PRIMARY KEY (run_date, sku, location_id, target_date)
){{ engine }};

CREATE TABLE IF NOT EXISTS forecast_runs (
    run_date       DATE         NOT NULL PRIMARY KEY,
    model_name     VARCHAR(64)  NOT NULL,
    model_version  VARCHAR(16)  NOT NULL,
    mlflow_run_id  VARCHAR(64)  NOT NULL,
    horizon_days   INTEGER      NOT NULL,
    series_count   INTEGER      NOT NULL,
    row_count      INTEGER      NOT NULL
){{ engine }};

-- Marketing's tables: customers only as keyed pseudonyms (forecasting.customers.privacy).
CREATE TABLE IF NOT EXISTS customer_propensity (
    run_date           DATE         NOT NULL,  -- scored after this day ends
    customer_pseudonym CHAR(32)     NOT NULL,
    probability        DOUBLE PRECISION NOT NULL,  -- P(buys in the 28 days after run_date)
    expected_orders    DOUBLE PRECISION NOT NULL,  -- expected orders in those 28 days
    decile             INTEGER      NOT NULL,  -- 1 = the 10 % most likely to buy
    model_version      VARCHAR(16)  NOT NULL,
    PRIMARY KEY (run_date, customer_pseudonym)
){{ engine }};

CREATE TABLE IF NOT EXISTS customer_recommendations (
    run_date           DATE         NOT NULL,
    customer_pseudonym CHAR(32)     NOT NULL,
    `rank`             INTEGER      NOT NULL,  -- 1 = show first
    sku                {{ key }}    NOT NULL,
    score              DOUBLE PRECISION NOT NULL,
    model_version      VARCHAR(16)  NOT NULL,
    PRIMARY KEY (run_date, customer_pseudonym, `rank`)
){{ engine }};
