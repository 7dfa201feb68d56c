-- Average unit price of positive order lines per SKU in [:ts_start, :ts_end), to check the
-- catalogue's list prices against what customers actually paid.
SELECT
    l.sku              AS sku,
    AVG(l.unit_price)  AS avg_unit_price,
    COUNT(*)           AS line_count
FROM orders AS o
JOIN order_lines AS l ON l.order_id = o.order_id
JOIN products AS p ON p.sku = l.sku
WHERE l.quantity > 0
  AND LOWER(TRIM(o.status)) <> 'cancelled'
  AND o.ordered_at >= :ts_start
  AND o.ordered_at < :ts_end
  AND p.category <> :excluded_category
GROUP BY l.sku
