-- How each series is replenished (the optional replenishment_policy table).
SELECT sku, location_id, lead_time_days, review_period_days, service_level, pack_size,
       min_order_qty
FROM replenishment_policy
