-- Planners and reports read the forecast tables and nothing else (not the customer tables:
-- marketing's, pseudonymous, granted separately where needed). The planner app records
-- planners' decisions on suggestions: INSERT on replenishment_decisions, their own table.
GRANT SELECT ON {{ database }}.demand_forecast TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.forecast_runs TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.demand_forecast_leadtime TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.forecast_accuracy TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.forecast_accuracy_summary TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.search_demand TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.demand_alerts TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.demand_forecast_drivers TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.demand_forecast_changes TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.replenishment_suggestions TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.forecast_products TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.demand_history TO '{{ user }}'@'%';
GRANT SELECT, INSERT ON {{ database }}.replenishment_decisions TO '{{ user }}'@'%'
