-- Planners' decisions on one series' suggestions, newest first.
SELECT run_date, suggested_qty, order_qty, decision, decided_by, decided_at, note
FROM replenishment_decisions
WHERE sku = :sku AND location_id = :location_id
ORDER BY decided_at DESC
LIMIT :rows
