-- Web events in [:ts_start, :ts_end) (source time) for a source without customer_optouts:
-- without it opt-outs cannot be honoured, so no customer id is read at all (every event
-- is anonymous); otherwise as select_web_events.sql.
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
    NULL AS customer_id,
    e.event_type AS event_type,
    e.sku AS sku,
    e.location_id AS location_id,
    e.query AS query
FROM web_events AS e
WHERE e.occurred_at >= :ts_start
  AND e.occurred_at < :ts_end
