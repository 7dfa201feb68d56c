-- Target days in [:first_target, :last_target] with at least one actual, per model version
-- (the decay rule needs enough days of the champion's own forecasts).
SELECT model_version, COUNT(DISTINCT target_date) AS days
FROM forecast_accuracy
WHERE target_date BETWEEN :first_target AND :last_target
  AND actual IS NOT NULL
GROUP BY model_version
