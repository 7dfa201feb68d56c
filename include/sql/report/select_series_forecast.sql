-- One series' daily forecasts of a run date (the report's forecast-vs-actual plots).
SELECT target_date, forecast, p10, p50, p90
FROM demand_forecast
WHERE run_date = :run_date AND sku = :sku AND location_id = :location_id
ORDER BY target_date
