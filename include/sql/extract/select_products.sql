-- Catalog attributes of sellable products (list price is today's price).
SELECT sku, category, list_price, launched_on
FROM products
WHERE category <> :excluded_category
