-- Officers (书记, 委员, ...) and terms (任期, 换届) of organizations (Step 4). One statement per
-- table: MySQL DDL is not transactional. Neither table copies the organization's path: scope is
-- looked up on organizations at request time, so a move never leaves a stale copy here.
-- `role` is the OfficerRole number, so officers list by role (secretary first) on an index.
CREATE TABLE IF NOT EXISTS officers (
  id BIGINT NOT NULL,
  organization_id BIGINT NOT NULL,
  member VARCHAR(64) CHARACTER SET ascii NOT NULL,
  member_display_name VARCHAR(200) NOT NULL DEFAULT '',
  role INT NOT NULL,
  start_date DATE NOT NULL,
  end_date DATE NULL,
  note VARCHAR(400) NOT NULL DEFAULT '',
  version BIGINT NOT NULL,
  request_id VARCHAR(64) CHARACTER SET ascii NULL,
  create_time_us BIGINT NOT NULL,
  update_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_officers_request_id (request_id),
  KEY idx_officers_organization_end (organization_id, end_date),
  CONSTRAINT fk_officers_organization FOREIGN KEY (organization_id) REFERENCES organizations (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
-- A term is current while end_date IS NULL (at most one per organization: writers lock the
-- organization row). idx_terms_current serves "current terms ending by a date, soonest first"
-- as one range over (NULL, planned_end_date); the subtree filter joins organizations by id.
CREATE TABLE IF NOT EXISTS terms (
  id BIGINT NOT NULL,
  organization_id BIGINT NOT NULL,
  start_date DATE NOT NULL,
  term_years INT NOT NULL,
  planned_end_date DATE NOT NULL,
  end_date DATE NULL,
  shift_days INT NOT NULL DEFAULT 0,
  approval VARCHAR(200) NOT NULL DEFAULT '',
  note VARCHAR(400) NOT NULL DEFAULT '',
  rule_set_version INT NOT NULL,
  request_id VARCHAR(64) CHARACTER SET ascii NULL,
  create_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_terms_request_id (request_id),
  KEY idx_terms_organization (organization_id, end_date, start_date),
  KEY idx_terms_current (end_date, planned_end_date, organization_id),
  CONSTRAINT fk_terms_organization FOREIGN KEY (organization_id) REFERENCES organizations (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
