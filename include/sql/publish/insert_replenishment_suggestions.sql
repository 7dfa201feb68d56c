INSERT INTO replenishment_suggestions
    (run_date, sku, location_id, on_hand, on_order, lead_time_days, review_period_days,
     service_level, demand_mean, order_up_to, suggested_qty, expected_service_level,
     model_version)
VALUES
    (:run_date, :sku, :location_id, :on_hand, :on_order, :lead_time_days, :review_period_days,
     :service_level, :demand_mean, :order_up_to, :suggested_qty, :expected_service_level,
     :model_version)
