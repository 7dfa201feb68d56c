-- Orders stamped at or after :ts_end (after the run's day): never extracted by that run.
SELECT COUNT(*) AS future_orders
FROM orders
WHERE ordered_at >= :ts_end
