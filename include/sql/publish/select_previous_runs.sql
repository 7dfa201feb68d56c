-- The forecast_runs rows of :run_date itself and of the latest earlier run date.
SELECT run_date, model_name, model_version, mlflow_run_id, horizon_days, series_count, row_count
FROM forecast_runs
WHERE run_date = :run_date
   OR run_date = (SELECT MAX(r.run_date) FROM forecast_runs AS r WHERE r.run_date < :run_date)
