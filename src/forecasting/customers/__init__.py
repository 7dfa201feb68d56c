"""Customer models: purchase propensity and product recommendations, on pseudonymised
order history (:mod:`~forecasting.customers.privacy`), run by the ``customer_models`` DAG
(:mod:`~forecasting.customers.pipeline`)."""
