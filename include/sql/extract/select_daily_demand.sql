-- Daily demand per SKU and location for order timestamps in [:ts_start, :ts_end) (source
-- time), counted on the shop's calendar day: the timestamp shifted by :offset_seconds.
-- Demand = units on order lines with a positive quantity, in orders whose status is not
-- 'cancelled' (any letter case, surrounding spaces ignored), of catalogue products whose
-- category is not :excluded_category (postage, fees), at known locations. Exact duplicate
-- lines (same order, SKU, quantity and unit price) count once. Negative lines (returns,
-- adjustments) are not demand. Lines whose SKU or location is missing or unknown to the
-- catalogue are counted by select_line_quality.sql, never silently dropped.
SELECT
    d.sku              AS sku,
    d.location_id      AS location_id,
    d.ds               AS ds,
    SUM(d.quantity)    AS y,
    COUNT(*)           AS line_count
FROM (
    SELECT DISTINCT
        o.order_id,
        l.sku,
        o.location_id,
        l.quantity,
        l.unit_price,
{% if dialect == "mysql" %}
        DATE(DATE_ADD(o.ordered_at, INTERVAL :offset_seconds SECOND)) AS ds
{% else %}
        DATE(o.ordered_at, :offset_modifier) AS ds
{% endif %}
    FROM orders AS o
    JOIN order_lines AS l ON l.order_id = o.order_id
    JOIN products AS p ON p.sku = l.sku
    JOIN locations AS loc ON loc.location_id = o.location_id
    WHERE LOWER(TRIM(o.status)) <> 'cancelled'
      AND l.quantity > 0
      AND o.ordered_at >= :ts_start
      AND o.ordered_at < :ts_end
      AND p.category <> :excluded_category
) AS d
GROUP BY d.sku, d.location_id, d.ds
