-- The shop's operational tables (the forecast's source). MySQL/MariaDB and SQLite.
-- Rendered with Jinja only for {{ dialect }}; no values are templated.
-- Tables use a binary collation: stock codes such as "M" and "m" are different products.
{% set engine = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin" if dialect == "mysql" else "" %}

CREATE TABLE IF NOT EXISTS products (
    sku          VARCHAR(64)   NOT NULL PRIMARY KEY,
    name         VARCHAR(255)  NOT NULL,
    description  TEXT,
    category     VARCHAR(64)   NOT NULL,
    list_price   DECIMAL(12,2) NOT NULL,
    launched_on  DATE
){{ engine }};

CREATE TABLE IF NOT EXISTS locations (
    location_id  VARCHAR(64)   NOT NULL PRIMARY KEY,
    name         VARCHAR(255)  NOT NULL,
    kind         VARCHAR(16)   NOT NULL  -- 'store' or 'online'
){{ engine }};

CREATE TABLE IF NOT EXISTS orders (
    order_id     VARCHAR(32)   NOT NULL PRIMARY KEY,
    customer_id  VARCHAR(64),             -- raw id: never leaves extraction un-pseudonymised
    location_id  VARCHAR(64)   NOT NULL,
    ordered_at   DATETIME      NOT NULL,
    status       VARCHAR(16)   NOT NULL   -- 'completed' or 'cancelled'
){{ engine }};

CREATE TABLE IF NOT EXISTS order_lines (
    order_id     VARCHAR(32)   NOT NULL,
    line_no      INTEGER       NOT NULL,
    sku          VARCHAR(64)   NOT NULL,
    quantity     INTEGER       NOT NULL,
    unit_price   DECIMAL(12,2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
){{ engine }};

CREATE TABLE IF NOT EXISTS promotions (
    promotion_id VARCHAR(32)   NOT NULL PRIMARY KEY,
    sku          VARCHAR(64)   NOT NULL,
    location_id  VARCHAR(64),             -- NULL: every location
    starts_on    DATE          NOT NULL,
    ends_on      DATE          NOT NULL,  -- inclusive
    discount_pct DECIMAL(5,2)  NOT NULL
){{ engine }};

CREATE TABLE IF NOT EXISTS calendar_events (
    event_date   DATE          NOT NULL,
    name         VARCHAR(128)  NOT NULL,
    kind         VARCHAR(32)   NOT NULL,  -- 'holiday', 'shopping', 'closure', ...
    PRIMARY KEY (event_date, name)
){{ engine }};

CREATE TABLE IF NOT EXISTS customer_optouts (
    customer_id  VARCHAR(64)   NOT NULL PRIMARY KEY,  -- asked to be forgotten
    opted_out_on DATE          NOT NULL
){{ engine }};

-- Optional: units on hand at close. A day at zero is a stock-out: its sales are not demand,
-- so extraction excludes it from training targets and accuracy. Without rows, nothing changes.
CREATE TABLE IF NOT EXISTS inventory_snapshots (
    sku           VARCHAR(64)   NOT NULL,
    location_id   VARCHAR(64)   NOT NULL,
    snapshot_date DATE          NOT NULL,
    units_on_hand DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (sku, location_id, snapshot_date)
){{ engine }};

-- Optional: open purchase orders. Units on order are part of the inventory position that
-- replenishment suggestions top up (forecasting.replenishment).
CREATE TABLE IF NOT EXISTS purchase_orders (
    purchase_order_id VARCHAR(64)   NOT NULL PRIMARY KEY,
    sku               VARCHAR(64)   NOT NULL,
    location_id       VARCHAR(64)   NOT NULL,
    quantity          DOUBLE PRECISION NOT NULL,  -- units on order
    ordered_on        DATE          NOT NULL,
    expected_on       DATE          NOT NULL     -- open while expected after the run's day
){{ engine }};

-- Optional: how each series is replenished. With rows (and inventory_snapshots), the
-- pipeline publishes replenishment_suggestions for the series they name.
CREATE TABLE IF NOT EXISTS replenishment_policy (
    sku                VARCHAR(64)   NOT NULL,
    location_id        VARCHAR(64)   NOT NULL,
    lead_time_days     INTEGER       NOT NULL,  -- from ordering to stock on the shelf
    review_period_days INTEGER       NOT NULL,  -- days between two orders (1 = daily)
    service_level      DOUBLE PRECISION NOT NULL,  -- target cycle service level, e.g. 0.95
    pack_size          INTEGER       NOT NULL,  -- orders are multiples of it
    min_order_qty      INTEGER       NOT NULL,  -- minimum order quantity (0 = none)
    PRIMARY KEY (sku, location_id)
){{ engine }};

-- Optional: customers' reviews of products. With rows, review volume, rating and the
-- sentiment of the text become features; without the table, nothing changes.
CREATE TABLE IF NOT EXISTS product_reviews (
    review_id    VARCHAR(64)   NOT NULL PRIMARY KEY,
    sku          VARCHAR(64)   NOT NULL,
    customer_id  VARCHAR(64),             -- raw id, like orders: pseudonymised by extraction
    rating       INTEGER       NOT NULL,  -- 1..5
    title        VARCHAR(255),
    body         TEXT,
    created_at   DATETIME      NOT NULL   -- the source's timezone, like orders.ordered_at
){{ engine }};

-- Optional: the website's event log (what shoppers do before they buy). With rows, views,
-- cart adds and searches become past covariates of the demand models, browsing features of
-- the customer models, the search_demand table and the intraday surge alert (demand_alerts);
-- without the table or its rows, nothing changes. An event log is written at least once:
-- event_id may repeat (extraction counts duplicates and keeps one), so it is not a key.
CREATE TABLE IF NOT EXISTS web_events (
    event_id     VARCHAR(64)   NOT NULL,
    occurred_at  DATETIME      NOT NULL,  -- the source's timezone, like orders.ordered_at
    session_id   VARCHAR(64)   NOT NULL,  -- raw id: pseudonymised by extraction
    customer_id  VARCHAR(64),             -- raw id, NULL for anonymous visitors
    event_type   VARCHAR(16)   NOT NULL,  -- view, cart_add, cart_remove, search, wishlist
    sku          VARCHAR(64),             -- NULL for searches
    location_id  VARCHAR(64)   NOT NULL,
    query        VARCHAR(255)             -- the search text, else NULL
){{ engine }};

-- Indexes are created by create_index.sql, only where missing (MySQL has no
-- CREATE INDEX IF NOT EXISTS), so applying the schema twice is harmless.
