-- One lease, with whether it has expired by the warehouse's clock.
{% set now = "UTC_TIMESTAMP()" if dialect == "mysql" else "CURRENT_TIMESTAMP" %}
SELECT lease_key, holder, taken_at, renewed_at, expires_at,
       CASE WHEN expires_at < {{ now }} THEN 1 ELSE 0 END AS expired
FROM forecasting_leases
WHERE lease_key = :lease_key
