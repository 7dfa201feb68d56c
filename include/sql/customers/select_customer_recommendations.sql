-- A run date's published recommendations.
SELECT customer_pseudonym, `rank`, sku, score, model_version
FROM customer_recommendations
WHERE run_date = :run_date
ORDER BY customer_pseudonym, `rank`
