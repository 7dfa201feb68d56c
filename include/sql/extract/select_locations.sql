-- Every location (stores and sales channels).
SELECT location_id, kind
FROM locations
