-- Units of demand per SKU and location for order timestamps in [:ts_start, :ts_end)
-- (source time), by the rules of extract/select_order_lines.sql (positive quantities,
-- orders not cancelled, catalogue products outside :excluded_category, known locations),
-- summed here: the denominator of the nowcast's events per unit. Exact duplicate lines
-- are not collapsed (the daily extraction does): a rare duplicate moves a 28-day ratio by
-- a fraction of a percent.
SELECT {% if dialect == "mysql" %}STRAIGHT_JOIN{% endif %}
    l.sku AS sku,
    o.location_id AS location_id,
    SUM(l.quantity) AS units
FROM orders AS o
JOIN order_lines AS l ON l.order_id = o.order_id
JOIN products AS p ON p.sku = l.sku
JOIN locations AS loc ON loc.location_id = o.location_id
WHERE LOWER(TRIM(o.status)) <> 'cancelled'
  AND l.quantity > 0
  AND o.ordered_at >= :ts_start
  AND o.ordered_at < :ts_end
  AND p.category <> :excluded_category
GROUP BY l.sku, o.location_id
