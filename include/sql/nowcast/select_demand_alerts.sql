-- The alerts of one judged moment, the largest |z| first.
SELECT alert_date, alert_hour, sku, location_id, metric, observed, expected, ratio, z_score,
       direction, forecast_run_date
FROM demand_alerts
WHERE alert_date = :alert_date AND alert_hour = :alert_hour
ORDER BY ABS(z_score) DESC, sku, location_id, metric
