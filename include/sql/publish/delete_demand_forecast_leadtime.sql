-- Remove a run date's lead-time quantiles before writing them again (same transaction).
DELETE FROM demand_forecast_leadtime WHERE run_date = :run_date
