-- The last day of demand_history (NULL when empty): a publish after a gap fills it.
SELECT MAX(ds) AS last_day FROM demand_history
