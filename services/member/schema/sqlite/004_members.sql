-- Members (SQLite dialect of schema/mysql/004_members.sql; same columns, same keys).
CREATE TABLE IF NOT EXISTS members (
  id INTEGER NOT NULL PRIMARY KEY,
  organization_id INTEGER NOT NULL,
  org_path TEXT NOT NULL,
  display_name TEXT NOT NULL,
  gender INTEGER NOT NULL,
  ethnicity TEXT NOT NULL,
  birth_date TEXT NULL,
  id_number_sealed TEXT NULL,
  id_number_index TEXT NULL,
  id_number_masked TEXT NULL,
  phone_sealed TEXT NULL,
  phone_index TEXT NULL,
  phone_masked TEXT NULL,
  pii_key_id TEXT NOT NULL,
  education INTEGER NOT NULL,
  work_unit TEXT NOT NULL,
  job_title TEXT NOT NULL,
  category INTEGER NOT NULL,
  stage INTEGER NOT NULL,
  status INTEGER NOT NULL,
  status_date TEXT NULL,
  application_date TEXT NULL,
  activist_date TEXT NULL,
  candidate_date TEXT NULL,
  join_date TEXT NULL,
  full_member_date TEXT NULL,
  probation_end_date TEXT NULL,
  extensions INTEGER NOT NULL DEFAULT 0,
  extension_months INTEGER NOT NULL DEFAULT 0,
  party_affairs_cadre INTEGER NOT NULL,
  residence_community TEXT NOT NULL,
  community_report_date TEXT NULL,
  request_id TEXT NULL,
  version INTEGER NOT NULL,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_members_id_number ON members (id_number_index);
CREATE UNIQUE INDEX IF NOT EXISTS uk_members_request_id ON members (request_id);
CREATE INDEX IF NOT EXISTS idx_members_phone ON members (phone_index);
CREATE INDEX IF NOT EXISTS idx_members_org_name ON members (organization_id, display_name, id);
CREATE INDEX IF NOT EXISTS idx_members_path_name ON members (org_path, display_name, id);
CREATE INDEX IF NOT EXISTS idx_members_probation ON members (stage, probation_end_date);
CREATE INDEX IF NOT EXISTS idx_members_standing ON members (stage, full_member_date);
CREATE INDEX IF NOT EXISTS idx_members_status ON members (status, status_date);
CREATE INDEX IF NOT EXISTS idx_members_key ON members (pii_key_id);

CREATE TABLE IF NOT EXISTS member_stages (
  member_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  stage INTEGER NOT NULL,
  stage_date TEXT NOT NULL,
  approving_org_id INTEGER NOT NULL,
  sponsors TEXT NOT NULL,
  contacts TEXT NOT NULL,
  extension_months INTEGER NOT NULL,
  reason TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  record_time_us INTEGER NOT NULL,
  PRIMARY KEY (member_id, seq)
);

CREATE TABLE IF NOT EXISTS member_status_changes (
  member_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  from_status INTEGER NOT NULL,
  to_status INTEGER NOT NULL,
  change_date TEXT NOT NULL,
  reason TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  record_time_us INTEGER NOT NULL,
  PRIMARY KEY (member_id, seq)
);

CREATE TABLE IF NOT EXISTS rule_sets (
  rule_kind TEXT NOT NULL,
  version INTEGER NOT NULL,
  effective_date TEXT NOT NULL,
  body TEXT NOT NULL,
  note TEXT NOT NULL,
  creator TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  PRIMARY KEY (rule_kind, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_rule_sets_effective ON rule_sets (rule_kind, effective_date);

CREATE TABLE IF NOT EXISTS member_imports (
  request_key TEXT NOT NULL PRIMARY KEY,
  organization_id INTEGER NOT NULL,
  imported INTEGER NOT NULL,
  create_time_us INTEGER NOT NULL
);
