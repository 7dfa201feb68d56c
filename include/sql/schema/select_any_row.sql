-- Whether a table holds a row at all (stops at the first): the demo loaders' guard.
SELECT 1 FROM {{ table }} LIMIT 1
