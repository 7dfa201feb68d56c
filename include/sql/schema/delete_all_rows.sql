-- Empty one source table before a loader writes it again (same transaction).
DELETE FROM {{ table }}
