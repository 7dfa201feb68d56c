-- Item events (view, cart_add, cart_remove, wishlist; never searches) of identified
-- customers for event timestamps in [:ts_start, :ts_end) (source time), with occurred_at
-- moved to the shop's local time (shifted by :offset_seconds), like
-- select_customer_lines.sql does with ordered_at. Anonymous visitors' events and those of
-- customers who asked to be forgotten (customer_optouts) are left out here, so their ids
-- never leave the database; the caller pseudonymises customer and session ids at once.
SELECT
    e.event_id AS event_id,
{% if dialect == "mysql" %}
    CAST(DATE_ADD(e.occurred_at, INTERVAL :offset_seconds SECOND) AS CHAR) AS occurred_at,
{% else %}
    DATETIME(e.occurred_at, :offset_modifier) AS occurred_at,
{% endif %}
    e.session_id AS session_id,
    e.customer_id AS customer_id,
    e.event_type AS event_type,
    e.sku AS sku,
    e.location_id AS location_id
FROM web_events AS e
WHERE e.occurred_at >= :ts_start
  AND e.occurred_at < :ts_end
  AND e.customer_id IS NOT NULL
  AND e.sku IS NOT NULL
  AND e.event_type IN ('view', 'cart_add', 'cart_remove', 'wishlist')
  AND NOT EXISTS (SELECT 1 FROM customer_optouts AS x WHERE x.customer_id = e.customer_id)
