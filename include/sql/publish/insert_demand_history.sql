INSERT INTO demand_history (sku, location_id, ds, units) VALUES (:sku, :location_id, :ds, :units)
