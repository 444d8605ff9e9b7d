-- The organization tree. `path` is the materialized path of ids from the root to this row
-- ('/1/5/23/'), so a subtree is one indexed range scan. Ids come from the service.
CREATE TABLE IF NOT EXISTS organizations (
  id BIGINT NOT NULL,
  parent_id BIGINT NULL,
  path VARCHAR(760) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  depth INT NOT NULL,
  kind VARCHAR(32) CHARACTER SET ascii NOT NULL,
  display_name VARCHAR(200) NOT NULL,
  unit VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '',
  established_date DATE NULL,
  status VARCHAR(16) CHARACTER SET ascii NOT NULL,
  version BIGINT NOT NULL,
  request_id VARCHAR(64) CHARACTER SET ascii NULL,
  create_time_us BIGINT NOT NULL,
  update_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_organizations_path (path),
  UNIQUE KEY uk_organizations_request_id (request_id),
  UNIQUE KEY uk_organizations_sibling_name (parent_id, display_name),
  KEY idx_organizations_parent (parent_id, id),
  CONSTRAINT fk_organizations_parent FOREIGN KEY (parent_id) REFERENCES organizations (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
