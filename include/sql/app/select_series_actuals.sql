-- The actuals monitoring joined to a run's forecasts of one series, as they arrive.
SELECT target_date, actual
FROM forecast_accuracy
WHERE run_date = :run_date AND sku = :sku AND location_id = :location_id
  AND actual IS NOT NULL
ORDER BY target_date
