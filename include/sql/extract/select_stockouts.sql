-- Days a SKU was out of stock at a location (units on hand at close <= 0), from the
-- optional inventory_snapshots table: their sales are not demand.
SELECT sku, location_id, snapshot_date AS ds
FROM inventory_snapshots
WHERE units_on_hand <= 0
  AND snapshot_date >= :start_day
  AND snapshot_date < :horizon_end_day
