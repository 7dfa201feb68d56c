-- Units on order per series: purchase orders placed by the run's day and expected after it
-- (an order expected on or before the run's day is in the day's snapshot).
SELECT sku, location_id, SUM(quantity) AS on_order, MIN(expected_on) AS next_expected_on
FROM purchase_orders
WHERE ordered_on <= :run_day
  AND expected_on > :run_day
GROUP BY sku, location_id
