-- SQLite dialect of schema/mysql/002_dissolution.sql.
ALTER TABLE organizations ADD COLUMN dissolved_date TEXT NULL;
ALTER TABLE organizations ADD COLUMN dissolution_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN merged_into INTEGER NULL;
