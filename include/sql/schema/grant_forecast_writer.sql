-- Publishing replaces a run date's rows: SELECT, INSERT and DELETE on the forecast tables,
-- demand and customer tables alike, UPDATE on forecast_accuracy alone (late actuals), and
-- SELECT, INSERT, UPDATE, DELETE on forecasting_leases (runs take, renew and release their
-- leases there), SELECT alone on replenishment_decisions (the planners' own table),
-- nothing on the shop's own tables. The tables are created by the administrator.
GRANT SELECT, INSERT, DELETE ON {{ database }}.demand_forecast TO '{{ user }}'@'%';
GRANT SELECT, INSERT, DELETE ON {{ database }}.forecast_runs TO '{{ user }}'@'%';
GRANT SELECT, INSERT, DELETE ON {{ database }}.customer_propensity TO '{{ user }}'@'%';
GRANT SELECT, INSERT, DELETE ON {{ database }}.customer_recommendations TO '{{ user }}'@'%';
GRANT SELECT, INSERT, DELETE ON {{ database }}.demand_forecast_leadtime TO '{{ user }}'@'%';
GRANT SELECT, INSERT, UPDATE, DELETE ON {{ database }}.forecast_accuracy TO '{{ user }}'@'%';
GRANT SELECT, INSERT, DELETE ON {{ database }}.forecast_accuracy_summary TO '{{ user }}'@'%';
GRANT SELECT, INSERT, UPDATE, DELETE ON {{ database }}.forecasting_leases TO '{{ user }}'@'%';
GRANT SELECT, INSERT, DELETE ON {{ database }}.search_demand TO '{{ user }}'@'%';
GRANT SELECT, INSERT, DELETE ON {{ database }}.demand_alerts TO '{{ user }}'@'%';
GRANT SELECT, INSERT, DELETE ON {{ database }}.demand_forecast_drivers TO '{{ user }}'@'%';
GRANT SELECT, INSERT, DELETE ON {{ database }}.demand_forecast_changes TO '{{ user }}'@'%';
GRANT SELECT, INSERT, DELETE ON {{ database }}.replenishment_suggestions TO '{{ user }}'@'%';
GRANT SELECT, INSERT, DELETE ON {{ database }}.forecast_products TO '{{ user }}'@'%';
GRANT SELECT, INSERT, DELETE ON {{ database }}.demand_history TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.replenishment_decisions TO '{{ user }}'@'%'
