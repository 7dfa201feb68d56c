-- A planner's decision on a suggestion: a new row every time (the forecasts and the
-- suggestion stay as published).
INSERT INTO replenishment_decisions
    (run_date, sku, location_id, suggested_qty, order_qty, decision, decided_by, decided_at, note)
VALUES
    (:run_date, :sku, :location_id, :suggested_qty, :order_qty, :decision, :decided_by,
     :decided_at, :note)
