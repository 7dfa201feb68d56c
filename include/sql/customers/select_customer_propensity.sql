-- A run date's published propensity (the champion's live check reads the one 28 days back).
SELECT customer_pseudonym, probability, expected_orders, decile, model_version
FROM customer_propensity
WHERE run_date = :run_date
ORDER BY customer_pseudonym
