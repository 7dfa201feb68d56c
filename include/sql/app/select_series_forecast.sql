-- One series' daily forecasts of a run.
SELECT target_date, forecast, p10, p50, p90, model_name, model_version, cold_start
FROM demand_forecast
WHERE run_date = :run_date AND sku = :sku AND location_id = :location_id
ORDER BY target_date
