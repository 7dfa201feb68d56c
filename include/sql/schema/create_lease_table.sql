{% set engine = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin" if dialect == "mysql" else "" %}
-- One run of a pipeline date at a time, whoever starts it (Airflow or the CLI), and one
-- writer of the shared demand store: forecasting.leases. A row is a held lease; its
-- holder renews it while it works and deletes it when done; an expired row may be taken
-- over. Times are the warehouse's clock, in UTC.
CREATE TABLE IF NOT EXISTS forecasting_leases (
    lease_key   VARCHAR(191)  NOT NULL PRIMARY KEY,  -- 'demand_forecast/2024-06-30'
    holder      VARCHAR(255)  NOT NULL,  -- 'airflow:<dag_id>/<run_id>' or 'cli:<host>:<pid>:<id>'
    taken_at    DATETIME      NOT NULL,
    renewed_at  DATETIME      NOT NULL,
    expires_at  DATETIME      NOT NULL
){{ engine }};
