-- The actual stored per series and target day in [:first_target, :last_target] (the same
-- on every run date's row; NULL on excluded days), to compare with today's extract.
SELECT target_date, sku, location_id, MAX(actual) AS actual
FROM forecast_accuracy
WHERE target_date BETWEEN :first_target AND :last_target
GROUP BY target_date, sku, location_id
