-- Product names are replaced whole by every publish (the run's catalogue).
DELETE FROM forecast_products
