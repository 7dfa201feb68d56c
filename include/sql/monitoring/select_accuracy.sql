-- Accuracy rows of target days in [:first_target, :last_target].
SELECT run_date, target_date, lag_days, sku, location_id, category, actual, forecast,
       p10, p50, p90, scale_mae1, scale_mse1, scale_mae7, model_version
FROM forecast_accuracy
WHERE target_date BETWEEN :first_target AND :last_target
