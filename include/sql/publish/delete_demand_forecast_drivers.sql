-- Remove a run date's forecast drivers before writing them again (same transaction).
DELETE FROM demand_forecast_drivers WHERE run_date = :run_date
