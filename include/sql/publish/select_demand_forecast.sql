-- A run date's published forecasts, in key order.
SELECT run_date, sku, location_id, target_date, forecast, p10, p50, p90, model_name,
       model_version, cold_start, history_days
FROM demand_forecast
WHERE run_date = :run_date
ORDER BY sku, location_id, target_date
