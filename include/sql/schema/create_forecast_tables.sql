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
    model_name    VARCHAR(64)   NOT NULL,  -- launch_curve on cold-start rows
    model_version VARCHAR(16)   NOT NULL,
    -- 1: a new product, forecast from its text neighbours' and category's launch curves
    -- (launching in the horizon, or under 28 days of history); see forecasting.text.launch
    cold_start    SMALLINT      NOT NULL DEFAULT 0,
    history_days  INTEGER,                 -- days of the series' history up to run_date
    PRIMARY KEY (run_date, sku, location_id, target_date){% if dialect == "mysql" %},
    -- monitoring reads the forecasts made for a target day (forecasting.monitoring)
    KEY ix_demand_forecast_target (target_date){% endif %}
){{ engine }};
{% if dialect != "mysql" %}
CREATE INDEX IF NOT EXISTS ix_demand_forecast_target ON demand_forecast (target_date);
{% endif %}

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

-- Quantiles of total demand over the next `days` days after run_date (7, 14, 28), from a
-- model of the aggregate (forecasting.evaluation.leadtime): not sums of daily quantiles.
CREATE TABLE IF NOT EXISTS demand_forecast_leadtime (
    run_date      DATE          NOT NULL,
    sku           {{ key }}     NOT NULL,
    location_id   {{ key }}     NOT NULL,
    days          INTEGER       NOT NULL,  -- lead time: total over run_date+1 .. run_date+days
    forecast      DOUBLE PRECISION NOT NULL,  -- expected total (sum of daily point forecasts)
    p50           DOUBLE PRECISION NOT NULL,
    p80           DOUBLE PRECISION NOT NULL,
    p90           DOUBLE PRECISION NOT NULL,
    p95           DOUBLE PRECISION NOT NULL,
    p99           DOUBLE PRECISION NOT NULL,
    model_version VARCHAR(16)   NOT NULL,
    PRIMARY KEY (run_date, sku, location_id, days)
){{ engine }};

-- Every published forecast joined with its actual once the target day has ended
-- (forecasting.monitoring). A late actual updates the rows of its series and target day;
-- the key leads with those, as every monitoring query and update selects by them.
CREATE TABLE IF NOT EXISTS forecast_accuracy (
    run_date      DATE          NOT NULL,  -- the forecast's as-of day
    target_date   DATE          NOT NULL,
    lag_days      INTEGER       NOT NULL,  -- days ahead: target_date - run_date
    sku           {{ key }}     NOT NULL,
    location_id   {{ key }}     NOT NULL,
    category      VARCHAR(255)  NOT NULL,
    actual        DOUBLE PRECISION,        -- NULL: excluded (stock-out or outlier day)
    forecast      DOUBLE PRECISION NOT NULL,
    p10           DOUBLE PRECISION NOT NULL,
    p50           DOUBLE PRECISION NOT NULL,
    p90           DOUBLE PRECISION NOT NULL,
    -- the series' scales from its history up to run_date (forecasting.evaluation.metrics):
    scale_mae1    DOUBLE PRECISION,  -- mean |one-step difference| (scaled pinball)
    scale_mse1    DOUBLE PRECISION,  -- mean squared one-step difference (RMSSE)
    scale_mae7    DOUBLE PRECISION,  -- mean |weekly difference| (MASE)
    model_version VARCHAR(16)   NOT NULL,
    PRIMARY KEY (target_date, sku, location_id, run_date)
){{ engine }};

-- Accuracy aggregates of a monitoring day over its recent window, by lag, category and
-- location ("all" for the whole catalogue). Replaced per monitoring day.
CREATE TABLE IF NOT EXISTS forecast_accuracy_summary (
    monitor_date  DATE          NOT NULL,
    dimension     VARCHAR(16)   NOT NULL,  -- all | lag | category | location
    value         VARCHAR(255)  NOT NULL,
    window_start  DATE          NOT NULL,  -- target days window_start .. monitor_date
    n_rows        INTEGER       NOT NULL,
    wape          DOUBLE PRECISION,
    bias          DOUBLE PRECISION,
    rmsse         DOUBLE PRECISION,
    mase          DOUBLE PRECISION,
    pinball       DOUBLE PRECISION,        -- scaled pinball loss, mean of P10/P50/P90 (M5's SPL)
    coverage      DOUBLE PRECISION,        -- share of actuals inside [P10, P90]
    PRIMARY KEY (monitor_date, dimension, value)
){{ engine }};

-- What shoppers searched for, per shop day (forecasting.behaviour.search), for
-- merchandisers: a query many search that matches no product, or whose searchers add
-- nothing to a cart, is unmet demand. Replaced per run date (the days it re-extracted).
CREATE TABLE IF NOT EXISTS search_demand (
    search_date        DATE          NOT NULL,  -- the shop's day of the searches
    query              VARCHAR(255)  NOT NULL,  -- normalised: lower case, single spaces
    searches           INTEGER       NOT NULL,
    sessions           INTEGER       NOT NULL,  -- distinct searching sessions
    matching_products  INTEGER       NOT NULL,  -- catalogue products whose text matches
    converted_sessions INTEGER       NOT NULL,  -- of them, sessions that added to a cart after
    run_date           DATE          NOT NULL,  -- the run that wrote the row
    PRIMARY KEY (search_date, query)
){{ engine }};

-- Intraday surge alerts (forecasting.behaviour.nowcast): a series whose views or cart adds
-- so far today run far above or below what the published forecast implies by this hour.
-- Replaced per (alert_date, alert_hour): judging the same moment twice gives the same rows.
CREATE TABLE IF NOT EXISTS demand_alerts (
    alert_date    DATE          NOT NULL,  -- the shop's day
    alert_hour    INTEGER       NOT NULL,  -- events up to this hour (0-24, shop time)
    sku           {{ key }}     NOT NULL,
    location_id   {{ key }}     NOT NULL,
    metric        VARCHAR(16)   NOT NULL,  -- views | cart_adds
    observed      DOUBLE PRECISION NOT NULL,
    expected      DOUBLE PRECISION NOT NULL,
    ratio         DOUBLE PRECISION NOT NULL,  -- observed / expected
    z_score       DOUBLE PRECISION NOT NULL,
    direction     VARCHAR(8)    NOT NULL,  -- above | below
    forecast_run_date DATE      NOT NULL,  -- the published forecast it was judged against
    PRIMARY KEY (alert_date, alert_hour, sku, location_id, metric)
){{ engine }};

-- Why each forecast says what it says (forecasting.explain): per run, series and horizon
-- bucket, the forecast over the bucket's days split into the reference (the series' recent
-- average), one contribution per input group (exact Shapley values over the groups, by
-- re-scoring) and the model's baseline. A bucket's rows add up to its forecast total.
CREATE TABLE IF NOT EXISTS demand_forecast_drivers (
    run_date       DATE          NOT NULL,
    sku            {{ key }}     NOT NULL,
    location_id    {{ key }}     NOT NULL,
    horizon_bucket VARCHAR(8)    NOT NULL,  -- days after run_date: 1-7 | 8-14 | 15-28
    input_group    VARCHAR(32)   NOT NULL,  -- reference | sales_history | price_promotions | ...
    contribution   DOUBLE PRECISION NOT NULL,  -- units over the bucket's days
    model_version  VARCHAR(16)   NOT NULL,
    PRIMARY KEY (run_date, sku, location_id, horizon_bucket, input_group)
){{ engine }};

-- Why the 28-day total changed since the previous run: new data (the previous version
-- re-scored on today's inputs, split by input group) and new model (today's version vs the
-- previous one on today's inputs). A series' rows add up to the change of its total.
CREATE TABLE IF NOT EXISTS demand_forecast_changes (
    run_date          DATE          NOT NULL,
    sku               {{ key }}     NOT NULL,
    location_id       {{ key }}     NOT NULL,
    previous_run_date DATE          NOT NULL,
    part              VARCHAR(16)   NOT NULL,  -- new_data | new_model
    input_group       VARCHAR(32)   NOT NULL,  -- an input group; "model" for new_model
    contribution      DOUBLE PRECISION NOT NULL,  -- units of the 28-day total
    PRIMARY KEY (run_date, sku, location_id, part, input_group)
){{ engine }};

-- What to order (forecasting.replenishment): the order-up-to level from the joint demand
-- over lead time + review period (a quantile of the aggregate, not a sum of daily ones),
-- and the quantity that reaches it, rounded to packs and the minimum order quantity.
CREATE TABLE IF NOT EXISTS replenishment_suggestions (
    run_date               DATE          NOT NULL,
    sku                    {{ key }}     NOT NULL,
    location_id            {{ key }}     NOT NULL,
    on_hand                DOUBLE PRECISION NOT NULL,  -- latest inventory snapshot
    on_order               DOUBLE PRECISION NOT NULL,  -- open purchase orders
    lead_time_days         INTEGER       NOT NULL,
    review_period_days     INTEGER       NOT NULL,
    service_level          DOUBLE PRECISION NOT NULL,  -- the policy's target
    demand_mean            DOUBLE PRECISION NOT NULL,  -- expected demand over lead time + review
    order_up_to            DOUBLE PRECISION NOT NULL,
    suggested_qty          DOUBLE PRECISION NOT NULL,  -- after pack size and minimum order
    expected_service_level DOUBLE PRECISION NOT NULL,  -- P(demand <= stock after the order)
    model_version          VARCHAR(16)   NOT NULL,
    PRIMARY KEY (run_date, sku, location_id)
){{ engine }};

-- Planners' decisions on suggestions (the planner app, forecasting.app): every approval or
-- edit is a new row; nothing here ever changes a forecast or a suggestion.
CREATE TABLE IF NOT EXISTS replenishment_decisions (
    run_date      DATE          NOT NULL,  -- the suggestion's run
    sku           {{ key }}     NOT NULL,
    location_id   {{ key }}     NOT NULL,
    suggested_qty DOUBLE PRECISION NOT NULL,
    order_qty     DOUBLE PRECISION NOT NULL,  -- what the planner ordered
    decision      VARCHAR(16)   NOT NULL,     -- approved | edited
    decided_by    VARCHAR(128)  NOT NULL,
    decided_at    TIMESTAMP     NOT NULL,     -- UTC
    note          VARCHAR(500),
    PRIMARY KEY (run_date, sku, location_id, decided_at)
){{ engine }};

-- Product names and categories for planners' pages, replaced by every publish.
CREATE TABLE IF NOT EXISTS forecast_products (
    sku       {{ key }}     NOT NULL PRIMARY KEY,
    name      VARCHAR(255)  NOT NULL,
    category  VARCHAR(255)  NOT NULL
){{ engine }};

-- Daily units sold per series for planners' charts: the days each run read are replaced,
-- days older than the retention dropped.
CREATE TABLE IF NOT EXISTS demand_history (
    sku          {{ key }}     NOT NULL,
    location_id  {{ key }}     NOT NULL,
    ds           DATE          NOT NULL,
    units        DOUBLE PRECISION,          -- NULL: excluded (stock-out or outlier day)
    PRIMARY KEY (sku, location_id, ds)
){{ engine }};
