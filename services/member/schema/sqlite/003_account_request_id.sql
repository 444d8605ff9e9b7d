-- SQLite dialect of schema/mysql/003_account_request_id.sql.
ALTER TABLE accounts ADD COLUMN request_id TEXT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uk_accounts_request_id ON accounts (request_id);
