-- Revoked access tokens (SQLite dialect of schema/mysql/002_revocations.sql).
CREATE TABLE IF NOT EXISTS revocations (
  id INTEGER NOT NULL PRIMARY KEY,
  session_id TEXT NOT NULL DEFAULT '',
  account_id INTEGER NOT NULL DEFAULT 0,
  min_epoch INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  expire_time_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_revocations_created ON revocations (create_time_us);
CREATE INDEX IF NOT EXISTS idx_revocations_expire ON revocations (expire_time_us);
ALTER TABLE accounts ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN last_failure_us INTEGER NOT NULL DEFAULT 0;
