-- The marker of a database that `forecasting seed-demo`, `forecasting import` or the scale
-- benchmark filled: only a database carrying it (or one without a single row in any table)
-- is ever written by them. A real shop never has it.
{% set engine = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin" if dialect == "mysql" else "" %}

CREATE TABLE IF NOT EXISTS forecasting_demo_shop (
    loaded_by  VARCHAR(64)  NOT NULL,  -- the command that claimed the database
    claimed_at VARCHAR(32)  NOT NULL   -- when (UTC, ISO 8601)
){{ engine }}
