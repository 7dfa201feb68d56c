-- A database for the shop and the forecast tables (MySQL/MariaDB), binary collation.
CREATE DATABASE IF NOT EXISTS {{ database }} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
