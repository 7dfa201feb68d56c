-- One series' quantiles of total demand over 7, 14 and 28 days after a run.
SELECT days, forecast, p50, p80, p90, p95, p99, model_version
FROM demand_forecast_leadtime
WHERE run_date = :run_date AND sku = :sku AND location_id = :location_id
ORDER BY days
