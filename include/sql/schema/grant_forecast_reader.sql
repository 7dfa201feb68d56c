-- Planners and reports read the forecast tables and nothing else (not the customer tables:
-- marketing's, pseudonymous, granted separately where needed).
GRANT SELECT ON {{ database }}.demand_forecast TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.forecast_runs TO '{{ user }}'@'%'
