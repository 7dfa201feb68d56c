INSERT INTO demand_alerts
    (alert_date, alert_hour, sku, location_id, metric, observed, expected, ratio, z_score,
     direction, forecast_run_date)
VALUES
    (:alert_date, :alert_hour, :sku, :location_id, :metric, :observed, :expected, :ratio,
     :z_score, :direction, :forecast_run_date)
