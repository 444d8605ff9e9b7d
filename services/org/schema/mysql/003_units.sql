-- Units (机关单位, Step 4): the government organs party organizations belong to. A unit is
-- managed within an organization's subtree (parent_id); its place in the tree for authorization
-- is that organization's current path, read at request time, so no path is copied here.
-- leadership_mode holds the enum name ('DIRECT', 'DUAL'); kind the UnitKind name. One statement
-- per table: MySQL DDL is not transactional.
CREATE TABLE IF NOT EXISTS units (
  id BIGINT NOT NULL,
  parent_id BIGINT NOT NULL,
  display_name VARCHAR(200) NOT NULL,
  credit_code VARCHAR(18) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  kind VARCHAR(32) CHARACTER SET ascii NOT NULL,
  leadership_mode VARCHAR(16) CHARACTER SET ascii NOT NULL,
  vertical_leading_body VARCHAR(200) NOT NULL DEFAULT '',
  version BIGINT NOT NULL,
  request_id VARCHAR(64) CHARACTER SET ascii NULL,
  create_time_us BIGINT NOT NULL,
  update_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_units_credit_code (credit_code),
  UNIQUE KEY uk_units_request_id (request_id),
  KEY idx_units_parent (parent_id, id),
  CONSTRAINT fk_units_parent FOREIGN KEY (parent_id) REFERENCES organizations (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The units a joint branch (联合党支部) covers besides organizations.unit, in the order given.
CREATE TABLE IF NOT EXISTS organization_joint_units (
  organization_id BIGINT NOT NULL,
  unit_id BIGINT NOT NULL,
  position INT NOT NULL,
  PRIMARY KEY (organization_id, unit_id),
  KEY idx_organization_joint_units_unit (unit_id),
  CONSTRAINT fk_organization_joint_units_organization FOREIGN KEY (organization_id)
    REFERENCES organizations (id),
  CONSTRAINT fk_organization_joint_units_unit FOREIGN KEY (unit_id) REFERENCES units (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
