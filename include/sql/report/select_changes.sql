-- Why each series' 28-day total changed since the previous run (demand_forecast_changes).
SELECT sku, location_id, previous_run_date, part, input_group, contribution
FROM demand_forecast_changes
WHERE run_date = :run_date
