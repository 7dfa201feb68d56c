-- Everyone who asked to be forgotten (raw ids: pseudonymised by the caller at once).
SELECT customer_id FROM customer_optouts
