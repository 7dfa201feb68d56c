-- Claim a database for the demo loaders (see create_demo_marker.sql).
INSERT INTO forecasting_demo_shop (loaded_by, claimed_at) VALUES (:loaded_by, :claimed_at)
