-- Order lines of identified customers for order timestamps in [:ts_start, :ts_end) (source
-- time), with the shop's calendar day. Every line is returned -- cancelled orders and
-- negative lines (returns) too: the customer features count them as such. Orders without a
-- customer, non-products (:excluded_category) and customers who asked to be forgotten
-- (customer_optouts) are left out. The raw customer and order ids are pseudonymised by the
-- caller before anything is written.
SELECT {% if dialect == "mysql" %}STRAIGHT_JOIN{% endif %}
    o.customer_id AS customer_id,
    o.order_id AS order_id,
{% if dialect == "mysql" %}
    CAST(DATE(DATE_ADD(o.ordered_at, INTERVAL :offset_seconds SECOND)) AS CHAR) AS ds,
    CAST(l.unit_price AS DOUBLE) AS unit_price,
{% else %}
    DATE(o.ordered_at, :offset_modifier) AS ds,
    CAST(l.unit_price AS REAL) AS unit_price,
{% endif %}
    CASE WHEN LOWER(TRIM(o.status)) = 'cancelled' THEN 1 ELSE 0 END AS cancelled,
    l.sku AS sku,
    p.category AS category,
    l.quantity AS quantity
FROM orders AS o
JOIN order_lines AS l ON l.order_id = o.order_id
JOIN products AS p ON p.sku = l.sku
WHERE o.ordered_at >= :ts_start
  AND o.ordered_at < :ts_end
  AND o.customer_id IS NOT NULL
  AND p.category <> :excluded_category
  AND NOT EXISTS (SELECT 1 FROM customer_optouts AS x WHERE x.customer_id = o.customer_id)
