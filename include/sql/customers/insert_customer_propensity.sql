INSERT INTO customer_propensity
    (run_date, customer_pseudonym, probability, expected_orders, decile, model_version)
VALUES
    (:run_date, :customer_pseudonym, :probability, :expected_orders, :decile, :model_version)
