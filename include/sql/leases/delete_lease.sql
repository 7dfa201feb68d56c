-- Release a lease: only its holder's row, so a late release never frees someone else's.
DELETE FROM forecasting_leases WHERE lease_key = :lease_key AND holder = :holder
