-- Run dates published before :run_date (the report compares with a week earlier).
SELECT run_date FROM forecast_runs WHERE run_date < :run_date ORDER BY run_date
