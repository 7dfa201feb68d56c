-- The forecasts for :target_date of the newest run published before that day (each run
-- date is an as-of snapshot; the index on target_date finds them). cold_start rows (new
-- products forecast from launch curves) are included.
SELECT f.run_date, f.sku, f.location_id, f.forecast, f.cold_start
FROM demand_forecast AS f
WHERE f.target_date = :target_date
  AND f.run_date = (
      SELECT MAX(run_date) FROM demand_forecast
      WHERE target_date = :target_date AND run_date < :target_date
  )
