-- Product names and categories (forecast_products, replaced by every publish).
SELECT sku, name, category FROM forecast_products
