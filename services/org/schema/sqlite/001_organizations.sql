-- The organization tree (SQLite dialect of schema/mysql/001_organizations.sql; same columns,
-- same keys). NOCASE on display_name matches MySQL's case-insensitive collation for sibling
-- uniqueness.
CREATE TABLE IF NOT EXISTS organizations (
  id INTEGER NOT NULL PRIMARY KEY,
  parent_id INTEGER NULL REFERENCES organizations (id),
  path TEXT NOT NULL,
  depth INTEGER NOT NULL,
  kind TEXT NOT NULL,
  display_name TEXT NOT NULL COLLATE NOCASE,
  unit TEXT NOT NULL DEFAULT '',
  established_date TEXT NULL,
  status TEXT NOT NULL,
  version INTEGER NOT NULL,
  request_id TEXT NULL,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_organizations_path ON organizations (path);
CREATE UNIQUE INDEX IF NOT EXISTS uk_organizations_request_id ON organizations (request_id);
CREATE UNIQUE INDEX IF NOT EXISTS uk_organizations_sibling_name
  ON organizations (parent_id, display_name);
CREATE INDEX IF NOT EXISTS idx_organizations_parent ON organizations (parent_id, id);
