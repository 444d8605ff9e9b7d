-- SQLite dialect of schema/mysql/007_officers_member.sql.
CREATE INDEX IF NOT EXISTS idx_officers_member ON officers (member, end_date);
