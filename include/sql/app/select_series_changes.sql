-- Why one series' 28-day total changed since the previous run: new data by input group
-- and the new model (they add up to the change).
SELECT previous_run_date, part, input_group, contribution
FROM demand_forecast_changes
WHERE run_date = :run_date AND sku = :sku AND location_id = :location_id
ORDER BY part, input_group
