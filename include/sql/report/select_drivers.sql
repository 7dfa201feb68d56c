-- Each series' forecast drivers of a run, summed over the horizon's buckets.
SELECT sku, location_id, input_group, SUM(contribution) AS contribution
FROM demand_forecast_drivers
WHERE run_date = :run_date
GROUP BY sku, location_id, input_group
