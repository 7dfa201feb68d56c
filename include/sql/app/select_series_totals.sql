-- Each series' forecast total of a run over target days (:run_date, :last_target] (the
-- planner app's index: the 28-day total and its change since the previous run).
SELECT sku, location_id, SUM(forecast) AS total
FROM demand_forecast
WHERE run_date = :run_date AND target_date > :run_date AND target_date <= :last_target
GROUP BY sku, location_id
