-- Promotions overlapping [:start_day, :horizon_end_day). location_id NULL = every location.
SELECT sku, location_id, starts_on, ends_on, discount_pct
FROM promotions
WHERE starts_on < :horizon_end_day
  AND ends_on >= :start_day
