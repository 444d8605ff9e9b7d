-- Transfers of members' organizational relationship (组织关系接转, Step 7): one row per
-- introduction letter. An organization inside the system is named by id with a copy of its
-- path (kept current from OrganizationMoved, as members' are), so both sides find their
-- transfers by subtree; one outside the system by name (*_external_name), with empty id and
-- path. `state` is as written: a PENDING row past expire_date is shown EXPIRED (computed on
-- read, never stored). member_id is 0 for a letter into the system without a record.
CREATE TABLE IF NOT EXISTS transfers (
  id BIGINT NOT NULL,
  kind INT NOT NULL,
  member_id BIGINT NOT NULL,
  member_display_name VARCHAR(200) NOT NULL,
  from_org_id BIGINT NOT NULL,
  from_path VARCHAR(760) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  from_external_name VARCHAR(400) NOT NULL,
  to_org_id BIGINT NOT NULL,
  to_path VARCHAR(760) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  to_external_name VARCHAR(400) NOT NULL,
  letter_number VARCHAR(200) NOT NULL,
  issue_date DATE NOT NULL,
  expire_date DATE NOT NULL,
  note VARCHAR(800) NOT NULL,
  state INT NOT NULL,
  decision_reason VARCHAR(800) NOT NULL,
  decision_date DATE NULL,
  receipt_date DATE NULL,
  transferred_out INT NOT NULL,
  creator VARCHAR(64) CHARACTER SET ascii NOT NULL,
  request_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NULL,
  version BIGINT NOT NULL,
  create_time_us BIGINT NOT NULL,
  update_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_transfers_letter_number (letter_number),
  UNIQUE KEY uk_transfers_request_id (request_id),
  KEY idx_transfers_member (member_id, state),
  KEY idx_transfers_from (from_path, id),
  KEY idx_transfers_to (to_path, id),
  KEY idx_transfers_expiry (state, expire_date)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The last generated letter number of each year (`2026-000123`): incremented in the
-- transaction that issues the letter, so numbers are unique and gapless per year.
CREATE TABLE IF NOT EXISTS transfer_letter_sequences (
  letter_year INT NOT NULL,
  last_seq BIGINT NOT NULL,
  PRIMARY KEY (letter_year)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
