-- Remove the search days a run re-extracted before writing them again (same transaction):
-- search_date in [:first_day, :last_day].
DELETE FROM search_demand WHERE search_date >= :first_day AND search_date <= :last_day
