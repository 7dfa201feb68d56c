-- Add a column this version publishes to a forecast table an earlier version created (the
-- caller checks that it is missing: MySQL has no ADD COLUMN IF NOT EXISTS). Table and
-- column come from forecasting.publishing.publish.ADDED_COLUMNS; their definitions are
-- the ones create_forecast_tables.sql gives new tables.
{% set definitions = {
    "demand_forecast.cold_start": "SMALLINT NOT NULL DEFAULT 0",
    "demand_forecast.history_days": "INTEGER",
} %}
ALTER TABLE {{ table }} ADD COLUMN {{ column }} {{ definitions[table ~ "." ~ column] }}
