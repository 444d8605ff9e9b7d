-- Accounts: who may sign in, with which roles, over which subtree. `scope_path` is the scope
-- organization's materialized path ('/' for the whole tree), so accounts are authorized and
-- listed like the organizations they hang on.
CREATE TABLE IF NOT EXISTS accounts (
  id BIGINT NOT NULL,
  username VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  password_hash VARCHAR(255) CHARACTER SET ascii NOT NULL,
  roles VARCHAR(255) CHARACTER SET ascii NOT NULL,
  scope_org BIGINT NOT NULL,
  scope_path VARCHAR(760) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  member VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '',
  failed_attempts INT NOT NULL DEFAULT 0,
  locked_until_us BIGINT NOT NULL DEFAULT 0,
  password_changed_us BIGINT NOT NULL,
  must_change INT NOT NULL,
  version BIGINT NOT NULL,
  create_time_us BIGINT NOT NULL,
  update_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_accounts_username (username),
  KEY idx_accounts_scope (scope_path)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
