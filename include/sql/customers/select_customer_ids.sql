-- Every customer with an order (for the shop's own pseudonym map; never run by the DAGs).
SELECT DISTINCT customer_id FROM orders WHERE customer_id IS NOT NULL
