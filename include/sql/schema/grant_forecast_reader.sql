-- Planners and reports read the forecast tables and nothing else (not the customer tables:
-- marketing's, pseudonymous, granted separately where needed).
GRANT SELECT ON {{ database }}.demand_forecast TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.forecast_runs TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.demand_forecast_leadtime TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.forecast_accuracy TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.forecast_accuracy_summary TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.search_demand TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.demand_alerts TO '{{ user }}'@'%'
