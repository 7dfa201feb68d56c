-- Open purchase orders: placed by the run's day and expected after it (an order expected on
-- or before the run's day is in the day's snapshot).
SELECT purchase_order_id, sku, location_id, quantity, ordered_on, expected_on
FROM purchase_orders
WHERE ordered_on <= :run_day
  AND expected_on > :run_day
