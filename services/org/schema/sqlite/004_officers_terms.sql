-- SQLite dialect of schema/mysql/004_officers_terms.sql: same columns, same keys.
CREATE TABLE IF NOT EXISTS officers (
  id INTEGER NOT NULL PRIMARY KEY,
  organization_id INTEGER NOT NULL REFERENCES organizations (id),
  member TEXT NOT NULL,
  member_display_name TEXT NOT NULL DEFAULT '',
  role INTEGER NOT NULL,
  start_date TEXT NOT NULL,
  end_date TEXT NULL,
  note TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL,
  request_id TEXT NULL,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_officers_request_id ON officers (request_id);
CREATE INDEX IF NOT EXISTS idx_officers_organization_end ON officers (organization_id, end_date);
CREATE TABLE IF NOT EXISTS terms (
  id INTEGER NOT NULL PRIMARY KEY,
  organization_id INTEGER NOT NULL REFERENCES organizations (id),
  start_date TEXT NOT NULL,
  term_years INTEGER NOT NULL,
  planned_end_date TEXT NOT NULL,
  end_date TEXT NULL,
  shift_days INTEGER NOT NULL DEFAULT 0,
  approval TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  rule_set_version INTEGER NOT NULL,
  request_id TEXT NULL,
  create_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_terms_request_id ON terms (request_id);
CREATE INDEX IF NOT EXISTS idx_terms_organization
  ON terms (organization_id, end_date, start_date);
CREATE INDEX IF NOT EXISTS idx_terms_current ON terms (end_date, planned_end_date, organization_id);
