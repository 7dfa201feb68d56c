-- One product's name and category.
SELECT sku, name, category FROM forecast_products WHERE sku = :sku
