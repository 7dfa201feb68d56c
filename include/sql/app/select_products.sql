-- Product names and categories of the published catalogue.
SELECT sku, name, category FROM forecast_products
