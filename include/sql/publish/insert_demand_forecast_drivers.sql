INSERT INTO demand_forecast_drivers
    (run_date, sku, location_id, horizon_bucket, input_group, contribution, model_version)
VALUES
    (:run_date, :sku, :location_id, :horizon_bucket, :input_group, :contribution, :model_version)
