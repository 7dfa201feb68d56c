-- Metrics by lag over target days in [:first_target, :last_target] with an actual
-- (forecasting.monitoring.lag_metrics computes the same in pandas; a test holds them equal).
-- Within one lag each row is its own series and run date, so the scaled metrics are means
-- of per-row ratios (rows whose scale is 0 or unknown are left out of that mean);
-- forecasting.monitoring turns the sums into WAPE, bias, scaled pinball and coverage.
SELECT lag_days,
       COUNT(*) AS n_rows,
       SUM(actual) AS y_sum,
       SUM(forecast) AS f_sum,
       SUM(ABS(actual - forecast)) AS ae_sum,
       AVG(CASE WHEN scale_mse1 > 0 THEN ABS(actual - forecast) / SQRT(scale_mse1) END) AS rmsse,
       AVG(CASE WHEN scale_mae7 > 0 THEN ABS(actual - forecast) / scale_mae7 END) AS mase,
       AVG(CASE WHEN scale_mae1 > 0 THEN
           (CASE WHEN actual >= p10 THEN 0.1 * (actual - p10) ELSE 0.9 * (p10 - actual) END)
           / scale_mae1 END) AS spl_10,
       AVG(CASE WHEN scale_mae1 > 0 THEN
           (CASE WHEN actual >= p50 THEN 0.5 * (actual - p50) ELSE 0.5 * (p50 - actual) END)
           / scale_mae1 END) AS spl_50,
       AVG(CASE WHEN scale_mae1 > 0 THEN
           (CASE WHEN actual >= p90 THEN 0.9 * (actual - p90) ELSE 0.1 * (p90 - actual) END)
           / scale_mae1 END) AS spl_90,
       SUM(CASE WHEN p10 <= actual AND actual <= p90 THEN 1 ELSE 0 END) AS covered
FROM forecast_accuracy
WHERE target_date BETWEEN :first_target AND :last_target
  AND actual IS NOT NULL
GROUP BY lag_days
ORDER BY lag_days
