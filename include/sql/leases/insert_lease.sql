-- Take a free lease (fails on the primary key when someone holds it).
{% set now = "UTC_TIMESTAMP()" if dialect == "mysql" else "CURRENT_TIMESTAMP" %}
{% set expiry = "DATE_ADD(UTC_TIMESTAMP(), INTERVAL :ttl_seconds SECOND)" if dialect == "mysql" else "DATETIME('now', '+' || :ttl_seconds || ' seconds')" %}
INSERT INTO forecasting_leases (lease_key, holder, taken_at, renewed_at, expires_at)
VALUES (:lease_key, :holder, {{ now }}, {{ now }}, {{ expiry }})
