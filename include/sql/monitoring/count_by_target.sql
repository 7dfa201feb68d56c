-- Per target day in [:first_target, :last_target]: forecasts published before it and
-- accuracy rows written for it (a day whose two counts differ is rewritten whole).
SELECT f.target_date, f.published, COALESCE(a.written, 0) AS written
FROM (
    SELECT target_date, COUNT(*) AS published
    FROM demand_forecast
    WHERE target_date BETWEEN :first_target AND :last_target
      AND run_date < target_date
    GROUP BY target_date
) f
LEFT JOIN (
    SELECT target_date, COUNT(*) AS written
    FROM forecast_accuracy
    WHERE target_date BETWEEN :first_target AND :last_target
    GROUP BY target_date
) a ON a.target_date = f.target_date
ORDER BY f.target_date
