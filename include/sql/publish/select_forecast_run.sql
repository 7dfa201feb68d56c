SELECT run_date, model_name, model_version, mlflow_run_id, horizon_days, series_count, row_count
FROM forecast_runs
WHERE run_date = :run_date
