-- Daily demand per SKU and location in [:window_start, :window_end).
-- Demand = units on order lines with a positive quantity in orders that were not
-- cancelled; negative lines (returns, adjustments) are not demand. Codes whose product
-- category is :excluded_category (postage, fees) are left out.
SELECT
    l.sku                                             AS sku,
    o.location_id                                     AS location_id,
    DATE(o.ordered_at)                                AS ds,
    SUM(l.quantity)                                   AS y
FROM orders AS o
JOIN order_lines AS l ON l.order_id = o.order_id
JOIN products AS p ON p.sku = l.sku
WHERE o.status <> 'cancelled'
  AND l.quantity > 0
  AND o.ordered_at >= :window_start
  AND o.ordered_at < :window_end
  AND p.category <> :excluded_category
GROUP BY l.sku, o.location_id, DATE(o.ordered_at)
