-- Order lines of [:ts_start, :ts_end) counted by what extraction does with them: lines with
-- a missing or unknown SKU or location cannot be attributed to a series; negative and zero
-- quantities and cancelled orders are not demand; statuses are compared case-insensitively.
-- On MySQL the join starts from the orders of the range (see select_order_lines.sql).
SELECT {% if dialect == "mysql" %}STRAIGHT_JOIN{% endif %}
    COUNT(*) AS line_count,
    SUM(CASE WHEN l.sku IS NULL THEN 1 ELSE 0 END) AS null_sku,
    SUM(CASE WHEN l.sku IS NOT NULL AND p.sku IS NULL THEN 1 ELSE 0 END) AS unknown_sku,
    SUM(CASE WHEN o.location_id IS NULL THEN 1 ELSE 0 END) AS null_location,
    SUM(CASE WHEN o.location_id IS NOT NULL AND loc.location_id IS NULL THEN 1 ELSE 0 END)
        AS unknown_location,
    SUM(CASE WHEN l.quantity < 0 THEN 1 ELSE 0 END) AS negative_quantity,
    SUM(CASE WHEN l.quantity = 0 THEN 1 ELSE 0 END) AS zero_quantity,
    SUM(CASE WHEN LOWER(TRIM(o.status)) = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
    SUM(CASE WHEN o.status <> LOWER(TRIM(o.status)) THEN 1 ELSE 0 END) AS status_not_canonical,
    SUM(CASE WHEN LOWER(TRIM(o.status)) NOT IN ('completed', 'cancelled') THEN 1 ELSE 0 END)
        AS unknown_status
FROM orders AS o
JOIN order_lines AS l ON l.order_id = o.order_id
LEFT JOIN products AS p ON p.sku = l.sku
LEFT JOIN locations AS loc ON loc.location_id = o.location_id
WHERE o.ordered_at >= :ts_start
  AND o.ordered_at < :ts_end
