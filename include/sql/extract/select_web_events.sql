-- Web events from the optional web_events table that occurred in [:ts_start, :ts_end)
-- (source time), with occurred_at moved to the shop's local time (shifted by
-- :offset_seconds), like select_product_reviews.sql does with created_at. Events of
-- customers who asked to be forgotten (customer_optouts) are left out here, so their ids
-- never leave the database; the caller replaces session_id and customer_id by keyed
-- pseudonyms before anything is stored. One shop day (or part of one) per query: the
-- caller keeps memory bounded by a day. The range is served by ix_web_events_occurred_at.
-- PyMySQL reads the time as text (its own DATETIME parsing, in Python, is twice as slow);
-- ConnectorX (reader "connectorx") reads DATETIME natively into Arrow.
SELECT
    e.event_id AS event_id,
{% if dialect == "mysql" and reader is defined and reader == "connectorx" %}
    DATE_ADD(e.occurred_at, INTERVAL :offset_seconds SECOND) AS occurred_at,
{% elif dialect == "mysql" %}
    CAST(DATE_ADD(e.occurred_at, INTERVAL :offset_seconds SECOND) AS CHAR) AS occurred_at,
{% else %}
    DATETIME(e.occurred_at, :offset_modifier) AS occurred_at,
{% endif %}
    e.session_id AS session_id,
    e.customer_id AS customer_id,
    e.event_type AS event_type,
    e.sku AS sku,
    e.location_id AS location_id,
    e.query AS query
FROM web_events AS e
WHERE e.occurred_at >= :ts_start
  AND e.occurred_at < :ts_end
  AND (
    e.customer_id IS NULL
    OR NOT EXISTS (SELECT 1 FROM customer_optouts AS x WHERE x.customer_id = e.customer_id)
  )
