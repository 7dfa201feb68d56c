-- One series' replenishment suggestion of a run.
SELECT on_hand, on_order, lead_time_days, review_period_days, service_level, demand_mean,
       order_up_to, suggested_qty, expected_service_level, model_version
FROM replenishment_suggestions
WHERE run_date = :run_date AND sku = :sku AND location_id = :location_id
