-- SQLite dialect of schema/mysql/003_units.sql: same columns, same keys.
CREATE TABLE IF NOT EXISTS units (
  id INTEGER NOT NULL PRIMARY KEY,
  parent_id INTEGER NOT NULL REFERENCES organizations (id),
  display_name TEXT NOT NULL,
  credit_code TEXT NOT NULL,
  kind TEXT NOT NULL,
  leadership_mode TEXT NOT NULL,
  vertical_leading_body TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL,
  request_id TEXT NULL,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_units_credit_code ON units (credit_code);
CREATE UNIQUE INDEX IF NOT EXISTS uk_units_request_id ON units (request_id);
CREATE INDEX IF NOT EXISTS idx_units_parent ON units (parent_id, id);

CREATE TABLE IF NOT EXISTS organization_joint_units (
  organization_id INTEGER NOT NULL REFERENCES organizations (id),
  unit_id INTEGER NOT NULL REFERENCES units (id),
  position INTEGER NOT NULL,
  PRIMARY KEY (organization_id, unit_id)
);
CREATE INDEX IF NOT EXISTS idx_organization_joint_units_unit
  ON organization_joint_units (unit_id);
