-- Order lines that count as demand, for order timestamps in [:ts_start, :ts_end) (source
-- time), with the shop's calendar day of each (the timestamp shifted by :offset_seconds).
-- Demand = order lines with a positive quantity, in orders whose status is not 'cancelled'
-- (any letter case, surrounding spaces ignored), of catalogue products whose category is not
-- :excluded_category (postage, fees), at known locations. Negative lines (returns,
-- adjustments) are not demand. Lines whose SKU or location is missing or unknown to the
-- catalogue are counted by select_line_quality.sql, never silently dropped.
-- Rows are aggregated per SKU, location and day by the caller (pandas), after collapsing
-- exact duplicate lines (same order, SKU, quantity and unit price): a GROUP BY here makes
-- MySQL sort tens of millions of rows in temporary tables, several times slower.
-- On MySQL the join starts from the orders of the time range (STRAIGHT_JOIN) and their
-- index on ordered_at:
-- left to itself the optimizer may start from products and read every order line of every
-- product through the SKU index, at random, to keep the few in the range.
SELECT {% if dialect == "mysql" %}STRAIGHT_JOIN{% endif %}
    o.order_id AS order_id,
    l.sku AS sku,
    o.location_id AS location_id,
{% if dialect == "mysql" %}
    CAST(DATE(DATE_ADD(o.ordered_at, INTERVAL :offset_seconds SECOND)) AS CHAR) AS ds,
    l.quantity AS quantity,
    CAST(l.unit_price AS DOUBLE) AS unit_price
{% else %}
    DATE(o.ordered_at, :offset_modifier) AS ds,
    l.quantity AS quantity,
    CAST(l.unit_price AS REAL) AS unit_price
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
