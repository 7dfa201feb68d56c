-- Unmet demand: queries searched on shop days [:first_day, :last_day] that matched no
-- catalogue product on any of those days, or whose searching sessions added nothing to a
-- cart (forecasting.behaviour.search; the table search_demand), the most searched first.
SELECT
    query,
    SUM(searches) AS searches,
    SUM(sessions) AS sessions,
    MAX(matching_products) AS matching_products,
    SUM(converted_sessions) AS converted_sessions
FROM search_demand
WHERE search_date >= :first_day
  AND search_date <= :last_day
GROUP BY query
HAVING MAX(matching_products) = 0 OR SUM(converted_sessions) = 0
ORDER BY SUM(searches) DESC, query
LIMIT :rows
