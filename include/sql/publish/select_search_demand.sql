-- search_demand rows of search days [:first_day, :last_day], in key order.
SELECT search_date, query, searches, sessions, matching_products, converted_sessions, run_date
FROM search_demand
WHERE search_date >= :first_day AND search_date <= :last_day
ORDER BY search_date, query
