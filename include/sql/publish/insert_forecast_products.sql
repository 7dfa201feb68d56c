INSERT INTO forecast_products (sku, name, category) VALUES (:sku, :name, :category)
