-- A run's replenishment suggestions with something to order, the largest first.
SELECT sku, location_id, on_hand, on_order, lead_time_days, review_period_days,
       service_level, demand_mean, order_up_to, suggested_qty, expected_service_level
FROM replenishment_suggestions
WHERE run_date = :run_date
  AND suggested_qty > 0
ORDER BY suggested_qty DESC, sku, location_id
