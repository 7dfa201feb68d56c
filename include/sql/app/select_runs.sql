-- The latest published run dates, newest first (the planner app shows the latest and
-- compares it with the one before).
SELECT run_date, model_name, model_version, horizon_days, series_count
FROM forecast_runs
ORDER BY run_date DESC
LIMIT 2
