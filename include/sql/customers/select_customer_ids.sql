-- Every customer with an order who has not opted out (for the shop's own pseudonym map;
-- never run by the DAGs): a forgotten customer's pseudonym is not written anywhere again.
SELECT DISTINCT o.customer_id
FROM orders o
WHERE o.customer_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM customer_optouts x WHERE x.customer_id = o.customer_id)
