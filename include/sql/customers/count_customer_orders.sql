-- Orders of [:ts_start, :ts_end) by whether they can feed the customer models: without a
-- customer, of a customer who opted out, or usable.
SELECT
    COUNT(*) AS orders,
    SUM(CASE WHEN o.customer_id IS NULL THEN 1 ELSE 0 END) AS without_customer,
    SUM(CASE WHEN x.customer_id IS NOT NULL THEN 1 ELSE 0 END) AS opted_out
FROM orders AS o
LEFT JOIN customer_optouts AS x ON x.customer_id = o.customer_id
WHERE o.ordered_at >= :ts_start
  AND o.ordered_at < :ts_end
