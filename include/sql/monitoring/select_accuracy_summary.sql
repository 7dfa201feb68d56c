-- The aggregates of monitoring days in [:first_day, :last_day] (the report's trend).
SELECT monitor_date, dimension, value, window_start, n_rows, wape, bias, rmsse, mase, pinball, coverage
FROM forecast_accuracy_summary
WHERE monitor_date BETWEEN :first_day AND :last_day
ORDER BY monitor_date, dimension, value
