-- The catalogue's text for the content recommender: name, description and category of
-- every sellable product (non-products, :excluded_category, left out). No customer data.
SELECT sku, name, description, category
FROM products
WHERE category <> :excluded_category
ORDER BY sku
