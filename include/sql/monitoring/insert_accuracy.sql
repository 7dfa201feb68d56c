INSERT INTO forecast_accuracy
    (run_date, target_date, lag_days, sku, location_id, category, actual, forecast,
     p10, p50, p90, scale_mae1, scale_mse1, scale_mae7, model_version)
VALUES
    (:run_date, :target_date, :lag_days, :sku, :location_id, :category, :actual, :forecast,
     :p10, :p50, :p90, :scale_mae1, :scale_mse1, :scale_mae7, :model_version)
