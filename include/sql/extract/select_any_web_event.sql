-- One web event in [:ts_start, :ts_end) (source time), if there is any: whether the event
-- store has anything to sync (an index seek on ix_web_events_occurred_at).
SELECT e.event_id AS event_id
FROM web_events AS e
WHERE e.occurred_at >= :ts_start
  AND e.occurred_at < :ts_end
LIMIT 1
