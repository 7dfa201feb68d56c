INSERT INTO customer_recommendations
    (run_date, customer_pseudonym, `rank`, sku, score, model_version)
VALUES
    (:run_date, :customer_pseudonym, :rank, :sku, :score, :model_version)
