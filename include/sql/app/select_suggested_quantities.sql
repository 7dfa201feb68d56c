-- Every series' suggested order quantity of a run (the planner app's index).
SELECT sku, location_id, suggested_qty
FROM replenishment_suggestions
WHERE run_date = :run_date
