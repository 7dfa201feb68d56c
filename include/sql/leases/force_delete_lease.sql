-- An operator's release of a lease whose holder is known to be gone (`forecasting leases release`).
DELETE FROM forecasting_leases WHERE lease_key = :lease_key
