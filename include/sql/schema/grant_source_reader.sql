-- Extraction reads the shop's tables and nothing else: SELECT on each source table.
GRANT SELECT ON {{ database }}.products TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.locations TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.orders TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.order_lines TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.promotions TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.calendar_events TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.customer_optouts TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.inventory_snapshots TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.product_reviews TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.web_events TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.purchase_orders TO '{{ user }}'@'%';
GRANT SELECT ON {{ database }}.replenishment_policy TO '{{ user }}'@'%'
