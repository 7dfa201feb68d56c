-- Exact duplicate order lines in [:ts_start, :ts_end): lines beyond the first with the same
-- order, SKU, quantity and unit price (extraction counts such a line once).
SELECT SUM(dup.n - 1) AS duplicate_lines
FROM (
    SELECT COUNT(*) AS n
    FROM orders AS o
    JOIN order_lines AS l ON l.order_id = o.order_id
    WHERE o.ordered_at >= :ts_start
      AND o.ordered_at < :ts_end
    GROUP BY l.order_id, l.sku, l.quantity, l.unit_price
    HAVING COUNT(*) > 1
) AS dup
