INSERT INTO search_demand
    (search_date, query, searches, sessions, matching_products, converted_sessions, run_date)
VALUES
    (:search_date, :query, :searches, :sessions, :matching_products, :converted_sessions, :run_date)
