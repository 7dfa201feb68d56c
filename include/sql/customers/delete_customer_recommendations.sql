-- Remove a run date's recommendations before writing them again (same transaction).
DELETE FROM customer_recommendations WHERE run_date = :run_date
