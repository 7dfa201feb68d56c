-- Catalog attributes of sellable products (list price is today's price) and their text
-- (name, description: the text model's input, forecasting.text).
SELECT sku, name, description, category, list_price, launched_on
FROM products
WHERE category <> :excluded_category
