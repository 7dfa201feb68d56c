-- Customers who asked to be forgotten leave every run date's rows, not only today's.
DELETE FROM customer_propensity WHERE customer_pseudonym = :customer_pseudonym
