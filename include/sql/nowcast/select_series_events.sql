-- Views and cart adds per SKU, location and shop day, for event timestamps in
-- [:ts_start, :ts_end) (source time; the shop's day is the timestamp shifted by
-- :offset_seconds), aggregated here: the nowcast reads counts, never an event id.
-- Sessions with more than :bot_events events in a shop day are bots and left out, as
-- forecasting.behaviour.events.clean_events does. The range is read through the index on
-- occurred_at (ix_web_events_occurred_at), twice: once for the bot sessions, once to count.
SELECT
    e.sku AS sku,
    e.location_id AS location_id,
{% if dialect == "mysql" %}
    CAST(DATE(DATE_ADD(e.occurred_at, INTERVAL :offset_seconds SECOND)) AS CHAR) AS ds,
{% else %}
    DATE(e.occurred_at, :offset_modifier) AS ds,
{% endif %}
    SUM(CASE WHEN e.event_type = 'view' THEN 1 ELSE 0 END) AS views,
    SUM(CASE WHEN e.event_type = 'cart_add' THEN 1 ELSE 0 END) AS cart_adds
FROM web_events AS e
LEFT JOIN (
    SELECT
        session_id,
{% if dialect == "mysql" %}
        DATE(DATE_ADD(occurred_at, INTERVAL :offset_seconds SECOND)) AS ds
{% else %}
        DATE(occurred_at, :offset_modifier) AS ds
{% endif %}
    FROM web_events
    WHERE occurred_at >= :ts_start
      AND occurred_at < :ts_end
    GROUP BY 1, 2
    HAVING COUNT(*) > :bot_events
) AS bots
  ON bots.session_id = e.session_id
{% if dialect == "mysql" %}
 AND bots.ds = DATE(DATE_ADD(e.occurred_at, INTERVAL :offset_seconds SECOND))
{% else %}
 AND bots.ds = DATE(e.occurred_at, :offset_modifier)
{% endif %}
WHERE e.occurred_at >= :ts_start
  AND e.occurred_at < :ts_end
  AND e.event_type IN ('view', 'cart_add')
  AND e.sku IS NOT NULL
  AND bots.session_id IS NULL
GROUP BY 1, 2, 3
