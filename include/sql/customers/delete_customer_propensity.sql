-- Remove a run date's propensity rows before writing them again (same transaction).
DELETE FROM customer_propensity WHERE run_date = :run_date
