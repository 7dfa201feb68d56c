INSERT INTO demand_forecast
    (run_date, sku, location_id, target_date, forecast, p10, p50, p90, model_name, model_version,
     cold_start, history_days)
VALUES
    (:run_date, :sku, :location_id, :target_date, :forecast, :p10, :p50, :p90, :model_name,
     :model_version, :cold_start, :history_days)
