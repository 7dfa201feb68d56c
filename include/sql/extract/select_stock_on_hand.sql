-- Each series' latest units on hand at close on or before the run's day, from the optional
-- inventory_snapshots table (replenishment's starting point).
SELECT s.sku, s.location_id, s.snapshot_date, s.units_on_hand
FROM inventory_snapshots s
JOIN (
    SELECT sku, location_id, MAX(snapshot_date) AS snapshot_date
    FROM inventory_snapshots
    WHERE snapshot_date <= :run_day
    GROUP BY sku, location_id
) latest
  ON s.sku = latest.sku
 AND s.location_id = latest.location_id
 AND s.snapshot_date = latest.snapshot_date
