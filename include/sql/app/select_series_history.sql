-- One series' daily units from :first_day on (history before the run, actuals after it).
SELECT ds, units
FROM demand_history
WHERE sku = :sku AND location_id = :location_id AND ds >= :first_day
ORDER BY ds
