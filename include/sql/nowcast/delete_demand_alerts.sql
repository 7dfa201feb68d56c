-- Remove the alerts of one judged moment before writing them again (same transaction).
DELETE FROM demand_alerts WHERE alert_date = :alert_date AND alert_hour = :alert_hour
