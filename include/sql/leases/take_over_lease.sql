-- Take over a lease whose holder stopped renewing it (expired), or that this holder has
-- already (a retried task, a cleared run): compare-and-set on the row's current holder.
{% set now = "UTC_TIMESTAMP()" if dialect == "mysql" else "CURRENT_TIMESTAMP" %}
{% set expiry = "DATE_ADD(UTC_TIMESTAMP(), INTERVAL :ttl_seconds SECOND)" if dialect == "mysql" else "DATETIME('now', '+' || :ttl_seconds || ' seconds')" %}
UPDATE forecasting_leases
SET taken_at = CASE WHEN holder = :holder THEN taken_at ELSE {{ now }} END,  -- first: MySQL
    holder = :holder,                                                      -- assigns in order
    renewed_at = {{ now }},
    expires_at = {{ expiry }}
WHERE lease_key = :lease_key
  AND holder = :seen_holder
  AND (holder = :holder OR expires_at < {{ now }} OR :dead_holder = 1)
