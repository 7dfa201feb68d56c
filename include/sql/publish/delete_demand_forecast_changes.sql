-- Remove a run date's change explanations before writing them again (same transaction).
DELETE FROM demand_forecast_changes WHERE run_date = :run_date
