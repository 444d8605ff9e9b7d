-- Transfers (SQLite dialect of schema/mysql/005_transfers.sql; same columns, same keys).
CREATE TABLE IF NOT EXISTS transfers (
  id INTEGER NOT NULL PRIMARY KEY,
  kind INTEGER NOT NULL,
  member_id INTEGER NOT NULL,
  member_display_name TEXT NOT NULL,
  from_org_id INTEGER NOT NULL,
  from_path TEXT NOT NULL,
  from_external_name TEXT NOT NULL,
  to_org_id INTEGER NOT NULL,
  to_path TEXT NOT NULL,
  to_external_name TEXT NOT NULL,
  letter_number TEXT NOT NULL,
  issue_date TEXT NOT NULL,
  expire_date TEXT NOT NULL,
  note TEXT NOT NULL,
  state INTEGER NOT NULL,
  decision_reason TEXT NOT NULL,
  decision_date TEXT NULL,
  receipt_date TEXT NULL,
  transferred_out INTEGER NOT NULL,
  creator TEXT NOT NULL,
  request_id TEXT NULL,
  version INTEGER NOT NULL,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_transfers_letter_number ON transfers (letter_number);
CREATE UNIQUE INDEX IF NOT EXISTS uk_transfers_request_id ON transfers (request_id);
CREATE INDEX IF NOT EXISTS idx_transfers_member ON transfers (member_id, state);
CREATE INDEX IF NOT EXISTS idx_transfers_from ON transfers (from_path, id);
CREATE INDEX IF NOT EXISTS idx_transfers_to ON transfers (to_path, id);
CREATE INDEX IF NOT EXISTS idx_transfers_expiry ON transfers (state, expire_date);

CREATE TABLE IF NOT EXISTS transfer_letter_sequences (
  letter_year INTEGER NOT NULL PRIMARY KEY,
  last_seq INTEGER NOT NULL
);
