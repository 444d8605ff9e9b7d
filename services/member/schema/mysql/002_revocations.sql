-- Access tokens revoked before their expiry (logout, a reused refresh token, a lock, a password
-- change or reset), listed by the gateways; a row is kept until no token it refuses can still
-- be valid. `session_epoch` counts an account's lock and password events: a token carries the
-- epoch it was issued at, and an account revocation refuses tokens of an earlier epoch.
-- `last_failure_us` lets failed sign-ins older than a day stop counting towards a lock.
CREATE TABLE IF NOT EXISTS revocations (
  id BIGINT NOT NULL,
  session_id VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '',
  account_id BIGINT NOT NULL DEFAULT 0,
  min_epoch BIGINT NOT NULL DEFAULT 0,
  reason VARCHAR(32) CHARACTER SET ascii NOT NULL,
  create_time_us BIGINT NOT NULL,
  expire_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  KEY idx_revocations_created (create_time_us),
  KEY idx_revocations_expire (expire_time_us)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
ALTER TABLE accounts ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN last_failure_us BIGINT NOT NULL DEFAULT 0;
