-- Drop an index (bulk loads rebuild it afterwards; MySQL/MariaDB syntax).
DROP INDEX {{ index }} ON {{ table }}
