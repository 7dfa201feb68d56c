-- Remove the days a run publishes again, and the days past the retention.
DELETE FROM demand_history WHERE (ds >= :first_day AND ds <= :last_day) OR ds < :oldest_day
