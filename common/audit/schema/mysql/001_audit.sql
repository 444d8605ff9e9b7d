-- The audit log: append-only, hash-chained (each row's HMAC-SM3 covers the previous row's), with
-- a one-row head holding the last sequence and hash (so deleting the newest rows shows) and the
-- anchor retention moved the chain's start to.
CREATE TABLE IF NOT EXISTS audit_head (
  id INT NOT NULL,
  seq BIGINT NOT NULL,
  hash CHAR(64) CHARACTER SET ascii NOT NULL,
  anchor_seq BIGINT NOT NULL,
  anchor_hash CHAR(64) CHARACTER SET ascii NOT NULL,
  PRIMARY KEY (id)
) ENGINE = InnoDB;
INSERT IGNORE INTO audit_head VALUES (1, 0, REPEAT('0', 64), 0, REPEAT('0', 64));
CREATE TABLE IF NOT EXISTS audit_log (
  seq BIGINT NOT NULL,
  time_us BIGINT NOT NULL,
  actor VARCHAR(128) NOT NULL,
  action VARCHAR(128) CHARACTER SET ascii NOT NULL,
  resource VARCHAR(255) NOT NULL,
  org_path VARCHAR(760) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  client_ip VARCHAR(64) CHARACTER SET ascii NOT NULL,
  request_id VARCHAR(128) CHARACTER SET ascii NOT NULL,
  outcome VARCHAR(32) CHARACTER SET ascii NOT NULL,
  detail VARCHAR(1024) NOT NULL,
  prev_hash CHAR(64) CHARACTER SET ascii NOT NULL,
  hash CHAR(64) CHARACTER SET ascii NOT NULL,
  PRIMARY KEY (seq),
  KEY idx_audit_scope (org_path, seq),
  KEY idx_audit_time (time_us)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
