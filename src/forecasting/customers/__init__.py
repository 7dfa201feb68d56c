"""Customer models: purchase propensity and product recommendations, on pseudonymised
order history (:mod:`~forecasting.customers.privacy`). The ``customer_models`` DAG's steps
are in :mod:`forecasting.pipelines.customers`; registering, promotion, serving and
publishing are the shared :mod:`forecasting.lifecycle`."""
