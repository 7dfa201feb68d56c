-- Calendar events in [:start_day, :horizon_end_day).
SELECT event_date AS ds, name, kind
FROM calendar_events
WHERE event_date >= :start_day
  AND event_date < :horizon_end_day
ORDER BY event_date, name
