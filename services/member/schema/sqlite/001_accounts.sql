-- Accounts (SQLite dialect of schema/mysql/001_accounts.sql; same columns, same keys).
CREATE TABLE IF NOT EXISTS accounts (
  id INTEGER NOT NULL PRIMARY KEY,
  username TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  roles TEXT NOT NULL,
  scope_org INTEGER NOT NULL,
  scope_path TEXT NOT NULL,
  member TEXT NOT NULL DEFAULT '',
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until_us INTEGER NOT NULL DEFAULT 0,
  password_changed_us INTEGER NOT NULL,
  must_change INTEGER NOT NULL,
  version INTEGER NOT NULL,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_accounts_username ON accounts (username);
CREATE INDEX IF NOT EXISTS idx_accounts_scope ON accounts (scope_path);
