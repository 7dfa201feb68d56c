INSERT INTO demand_forecast_changes
    (run_date, sku, location_id, previous_run_date, part, input_group, contribution)
VALUES
    (:run_date, :sku, :location_id, :previous_run_date, :part, :input_group, :contribution)
