SELECT run_date, sku, location_id, days, forecast, p50, p80, p90, p95, p99, model_version
FROM demand_forecast_leadtime
WHERE run_date = :run_date
ORDER BY sku, location_id, days
