INSERT INTO demand_forecast_leadtime
    (run_date, sku, location_id, days, forecast, p50, p80, p90, p95, p99, model_version)
VALUES
    (:run_date, :sku, :location_id, :days, :forecast, :p50, :p80, :p90, :p95, :p99, :model_version)
