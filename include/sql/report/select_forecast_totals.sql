-- A run date's forecasts summed per series over the horizon (the report's week-over-week
-- changes, widest uncertainty and new/stopped series), and how many days each holds.
SELECT sku, location_id,
       SUM(forecast) AS forecast, SUM(p10) AS p10, SUM(p50) AS p50, SUM(p90) AS p90,
       COUNT(*) AS days
FROM demand_forecast
WHERE run_date = :run_date
GROUP BY sku, location_id
ORDER BY sku, location_id
