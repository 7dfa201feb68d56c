INSERT INTO forecast_runs
    (run_date, model_name, model_version, mlflow_run_id, horizon_days, series_count, row_count)
VALUES
    (:run_date, :model_name, :model_version, :mlflow_run_id, :horizon_days, :series_count, :row_count)
