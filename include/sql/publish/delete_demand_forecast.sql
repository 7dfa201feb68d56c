-- Remove a run date's forecasts before writing them again (same transaction).
DELETE FROM demand_forecast WHERE run_date = :run_date
