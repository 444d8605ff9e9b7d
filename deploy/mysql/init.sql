-- First start of the compose MySQL: one database and one user per service, each with rights on
-- its own database only. The passwords come from the compose environment (dev values; set real
-- ones in any shared deployment).
CREATE DATABASE IF NOT EXISTS dj_org CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'dj_org'@'%' IDENTIFIED BY 'dj_org_dev_password';
GRANT ALL PRIVILEGES ON dj_org.* TO 'dj_org'@'%';
CREATE DATABASE IF NOT EXISTS dj_member CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'dj_member'@'%' IDENTIFIED BY 'dj_member_dev_password';
GRANT ALL PRIVILEGES ON dj_member.* TO 'dj_member'@'%';
