-- Every published forecast whose target day is in [:first_target, :last_target], made
-- before that day (each run date is an as-of snapshot).
SELECT run_date, sku, location_id, target_date, forecast, p10, p50, p90, model_version
FROM demand_forecast
WHERE target_date BETWEEN :first_target AND :last_target
  AND run_date < target_date
