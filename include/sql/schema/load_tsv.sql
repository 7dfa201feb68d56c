-- Bulk-load a tab-separated file (\N = NULL) into a source table (MySQL/MariaDB; the
-- client must allow LOCAL INFILE). The file name is a bound value.
LOAD DATA LOCAL INFILE :path INTO TABLE {{ table }}
CHARACTER SET utf8mb4
FIELDS TERMINATED BY '\t'
LINES TERMINATED BY '\n'
