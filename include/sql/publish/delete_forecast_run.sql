DELETE FROM forecast_runs WHERE run_date = :run_date
