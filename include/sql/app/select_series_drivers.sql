-- Why one series' forecast of a run says what it says: per horizon bucket, the reference
-- and each input group's contribution (they add up to the bucket's forecast total).
SELECT horizon_bucket, input_group, contribution, model_version
FROM demand_forecast_drivers
WHERE run_date = :run_date AND sku = :sku AND location_id = :location_id
