-- A database user for the pipeline (MySQL/MariaDB). The user name is a checked identifier;
-- the password is a bound value.
CREATE USER IF NOT EXISTS '{{ user }}'@'%' IDENTIFIED BY :password;
ALTER USER '{{ user }}'@'%' IDENTIFIED BY :password
