-- Remove a monitoring day's aggregates before writing them again (same transaction).
DELETE FROM forecast_accuracy_summary WHERE monitor_date = :monitor_date
