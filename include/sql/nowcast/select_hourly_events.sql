-- Views and cart adds of the whole shop per hour of the shop's day (0-23: the timestamp
-- shifted by :offset_seconds), for event timestamps in [:ts_start, :ts_end) (source
-- time): the intraday profile the nowcast spreads a day's expected events over.
SELECT
{% if dialect == "mysql" %}
    HOUR(DATE_ADD(occurred_at, INTERVAL :offset_seconds SECOND)) AS hour,
{% else %}
    CAST(strftime('%H', occurred_at, :offset_modifier) AS INTEGER) AS hour,
{% endif %}
    COUNT(*) AS events
FROM web_events
WHERE occurred_at >= :ts_start
  AND occurred_at < :ts_end
  AND event_type IN ('view', 'cart_add')
GROUP BY 1
