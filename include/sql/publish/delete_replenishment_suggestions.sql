-- Remove a run date's replenishment suggestions before writing them again (same
-- transaction). Planners' decisions live in replenishment_decisions and stay.
DELETE FROM replenishment_suggestions WHERE run_date = :run_date
