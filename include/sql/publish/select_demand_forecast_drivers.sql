-- A run date's forecast drivers (the previous run's, to explain what changed since).
SELECT sku, location_id, horizon_bucket, input_group, contribution, model_version
FROM demand_forecast_drivers
WHERE run_date = :run_date
