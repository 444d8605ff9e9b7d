-- Members (Step 7): one row per person, from applicant to full member. `org_path` is the
-- organization's materialized path (kept current from OrganizationMoved), so members are
-- authorized and listed by subtree. Personal data: the ID number and phone are sealed (SM4 +
-- HMAC-SM3, common/crypto/pii.h) under the key `pii_key_id`, found through blind indexes
-- (HMAC-SM3), and shown masked from the *_masked columns; never stored in clear.
CREATE TABLE IF NOT EXISTS members (
  id BIGINT NOT NULL,
  organization_id BIGINT NOT NULL,
  org_path VARCHAR(760) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  display_name VARCHAR(200) NOT NULL,
  gender INT NOT NULL,
  ethnicity VARCHAR(80) NOT NULL,
  birth_date DATE NULL,
  id_number_sealed VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
  id_number_index CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  id_number_masked VARCHAR(32) CHARACTER SET ascii NULL,
  phone_sealed VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
  phone_index CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  phone_masked VARCHAR(32) CHARACTER SET ascii NULL,
  pii_key_id VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  education INT NOT NULL,
  work_unit VARCHAR(400) NOT NULL,
  job_title VARCHAR(200) NOT NULL,
  category INT NOT NULL,
  stage INT NOT NULL,
  status INT NOT NULL,
  status_date DATE NULL,
  application_date DATE NULL,
  activist_date DATE NULL,
  candidate_date DATE NULL,
  join_date DATE NULL,
  full_member_date DATE NULL,
  probation_end_date DATE NULL,
  extensions INT NOT NULL DEFAULT 0,
  extension_months INT NOT NULL DEFAULT 0,
  party_affairs_cadre INT NOT NULL,
  residence_community VARCHAR(400) NOT NULL,
  community_report_date DATE NULL,
  request_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NULL,
  version BIGINT NOT NULL,
  create_time_us BIGINT NOT NULL,
  update_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_members_id_number (id_number_index),
  UNIQUE KEY uk_members_request_id (request_id),
  KEY idx_members_phone (phone_index),
  KEY idx_members_org_name (organization_id, display_name, id),
  KEY idx_members_path_name (org_path, display_name, id),
  KEY idx_members_probation (stage, probation_end_date),
  KEY idx_members_standing (stage, full_member_date),
  KEY idx_members_status (status, status_date),
  KEY idx_members_key (pii_key_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Each step of a member's development, in order (seq 1, 2, ...); extensions of probation too.
CREATE TABLE IF NOT EXISTS member_stages (
  member_id BIGINT NOT NULL,
  seq INT NOT NULL,
  stage INT NOT NULL,
  stage_date DATE NOT NULL,
  approving_org_id BIGINT NOT NULL,
  sponsors VARCHAR(400) CHARACTER SET ascii NOT NULL,
  contacts VARCHAR(400) CHARACTER SET ascii NOT NULL,
  extension_months INT NOT NULL,
  reason VARCHAR(800) NOT NULL,
  recorded_by VARCHAR(64) CHARACTER SET ascii NOT NULL,
  record_time_us BIGINT NOT NULL,
  PRIMARY KEY (member_id, seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Changes of membership status, in order.
CREATE TABLE IF NOT EXISTS member_status_changes (
  member_id BIGINT NOT NULL,
  seq INT NOT NULL,
  from_status INT NOT NULL,
  to_status INT NOT NULL,
  change_date DATE NOT NULL,
  reason VARCHAR(800) NOT NULL,
  recorded_by VARCHAR(64) CHARACTER SET ascii NOT NULL,
  record_time_us BIGINT NOT NULL,
  PRIMARY KEY (member_id, seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Versioned rule sets of the member service (kind "member": development, dues, transfers), as
-- the org service keeps its own (common/rules/rule_book.h).
CREATE TABLE IF NOT EXISTS rule_sets (
  rule_kind VARCHAR(32) CHARACTER SET ascii NOT NULL,
  version INT NOT NULL,
  effective_date DATE NOT NULL,
  body LONGTEXT NOT NULL,
  note VARCHAR(800) NOT NULL,
  creator VARCHAR(64) CHARACTER SET ascii NOT NULL,
  create_time_us BIGINT NOT NULL,
  PRIMARY KEY (rule_kind, version),
  UNIQUE KEY uk_rule_sets_effective (rule_kind, effective_date)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Spreadsheet imports, by the caller's request id: a retry answers what the first call did.
CREATE TABLE IF NOT EXISTS member_imports (
  request_key VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  organization_id BIGINT NOT NULL,
  imported INT NOT NULL,
  create_time_us BIGINT NOT NULL,
  PRIMARY KEY (request_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
