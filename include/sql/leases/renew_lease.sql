-- Extend a lease this holder has (expired or not, as long as nobody took it over).
{% set now = "UTC_TIMESTAMP()" if dialect == "mysql" else "CURRENT_TIMESTAMP" %}
{% set expiry = "DATE_ADD(UTC_TIMESTAMP(), INTERVAL :ttl_seconds SECOND)" if dialect == "mysql" else "DATETIME('now', '+' || :ttl_seconds || ' seconds')" %}
UPDATE forecasting_leases
SET renewed_at = {{ now }}, expires_at = {{ expiry }}
WHERE lease_key = :lease_key AND holder = :holder
