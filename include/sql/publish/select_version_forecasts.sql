-- Forecasts one model version published on the given run dates for target days up to
-- :last_target, for the given SKUs (live accuracy of the serving champion).
SELECT run_date, sku, location_id, target_date, forecast, p10, p50, p90
FROM demand_forecast
WHERE model_name = :model_name
  AND model_version = :model_version
  AND run_date IN :run_dates
  AND target_date <= :last_target
  AND sku IN :skus
