-- Reviews from the optional product_reviews table written in [:ts_start, :ts_end) (source
-- time), with created_at moved to the shop's local time (shifted by :offset_seconds), like
-- select_order_lines.sql does with ordered_at. Reviews of customers who asked to be
-- forgotten (customer_optouts) are left out here, so their ids and words never leave the
-- database; the caller pseudonymises the remaining customer ids before anything is written.
SELECT
    r.review_id AS review_id,
    r.sku AS sku,
    r.customer_id AS customer_id,
    r.rating AS rating,
    r.title AS title,
    r.body AS body,
{% if dialect == "mysql" %}
    CAST(DATE_ADD(r.created_at, INTERVAL :offset_seconds SECOND) AS CHAR) AS created_at
{% else %}
    DATETIME(r.created_at, :offset_modifier) AS created_at
{% endif %}
FROM product_reviews AS r
WHERE r.created_at >= :ts_start
  AND r.created_at < :ts_end
  AND (
    r.customer_id IS NULL
    OR NOT EXISTS (SELECT 1 FROM customer_optouts AS x WHERE x.customer_id = r.customer_id)
  )
