-- Per series and run date, over the accuracy rows of target days in
-- [:first_target, :last_target] with an actual: what every metric needs
-- (forecasting.monitoring.accuracy_stats computes the same in pandas; a test holds them equal).
-- Pinball loss at level q: q * (actual - p) when actual >= p, else (1 - q) * (p - actual).
SELECT sku, location_id, run_date,
       MAX(category) AS category,
       MAX(model_version) AS model_version,
       COUNT(*) AS n,
       AVG(ABS(actual - forecast)) AS ae,
       AVG((actual - forecast) * (actual - forecast)) AS se,
       AVG(CASE WHEN actual >= p10 THEN 0.1 * (actual - p10) ELSE 0.9 * (p10 - actual) END) AS pl10,
       AVG(CASE WHEN actual >= p50 THEN 0.5 * (actual - p50) ELSE 0.5 * (p50 - actual) END) AS pl50,
       AVG(CASE WHEN actual >= p90 THEN 0.9 * (actual - p90) ELSE 0.1 * (p90 - actual) END) AS pl90,
       MAX(scale_mae1) AS mae1,
       MAX(scale_mse1) AS mse1,
       MAX(scale_mae7) AS mae7,
       SUM(actual) AS y_sum,
       SUM(forecast) AS f_sum,
       SUM(ABS(actual - forecast)) AS ae_sum,
       SUM(CASE WHEN p10 <= actual AND actual <= p90 THEN 1 ELSE 0 END) AS covered
FROM forecast_accuracy
WHERE target_date BETWEEN :first_target AND :last_target
  AND actual IS NOT NULL
GROUP BY sku, location_id, run_date
