-- Party-building communities (党建共同体, "1+N+X"), pairings (结对) and stations (进驻社区),
-- Step 4. A community is placed in the tree at scope_org_id, the deepest organization containing
-- all of its organizations; its path is looked up when needed, never copied here, so moves are
-- followed. One statement per table (MySQL DDL is not transactional). Display names are unique
-- among the communities placed at the same organization, so two counties may each have their
-- "第一党建共同体".
CREATE TABLE IF NOT EXISTS communities (
  id BIGINT NOT NULL,
  display_name VARCHAR(100) NOT NULL,
  scope_org_id BIGINT NOT NULL,
  liaison_display_name VARCHAR(50) NOT NULL DEFAULT '',
  liaison_title VARCHAR(100) NOT NULL DEFAULT '',
  liaison_member VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '',
  version BIGINT NOT NULL,
  request_id VARCHAR(64) CHARACTER SET ascii NULL,
  create_time_us BIGINT NOT NULL,
  update_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_communities_scope_display_name (scope_org_id, display_name),
  UNIQUE KEY uk_communities_request_id (request_id),
  KEY idx_communities_scope (scope_org_id, id),
  CONSTRAINT fk_communities_scope FOREIGN KEY (scope_org_id) REFERENCES organizations (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The "1" (role LEAD, position 0) and the "N" (role MEMBER, positions 1..N). The unique key on
-- organization_id is what keeps an organization in at most one community, even for concurrent
-- creates.
CREATE TABLE IF NOT EXISTS community_organizations (
  community_id BIGINT NOT NULL,
  organization_id BIGINT NOT NULL,
  role VARCHAR(16) CHARACTER SET ascii NOT NULL,
  position INT NOT NULL,
  PRIMARY KEY (community_id, position),
  UNIQUE KEY uk_community_organizations_organization (organization_id),
  CONSTRAINT fk_community_organizations_community FOREIGN KEY (community_id)
    REFERENCES communities (id),
  CONSTRAINT fk_community_organizations_organization FOREIGN KEY (organization_id)
    REFERENCES organizations (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The "X": outside partners, in the order given.
CREATE TABLE IF NOT EXISTS community_partners (
  community_id BIGINT NOT NULL,
  position INT NOT NULL,
  display_name VARCHAR(100) NOT NULL,
  kind VARCHAR(32) CHARACTER SET ascii NOT NULL,
  contact VARCHAR(100) NOT NULL DEFAULT '',
  PRIMARY KEY (community_id, position),
  CONSTRAINT fk_community_partners_community FOREIGN KEY (community_id)
    REFERENCES communities (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The joint mechanisms in force (五联融合), by enum name.
CREATE TABLE IF NOT EXISTS community_mechanisms (
  community_id BIGINT NOT NULL,
  mechanism VARCHAR(32) CHARACTER SET ascii NOT NULL,
  PRIMARY KEY (community_id, mechanism),
  CONSTRAINT fk_community_mechanisms_community FOREIGN KEY (community_id)
    REFERENCES communities (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Party-building brands (党建品牌), in the order given.
CREATE TABLE IF NOT EXISTS community_brands (
  community_id BIGINT NOT NULL,
  position INT NOT NULL,
  display_name VARCHAR(100) NOT NULL,
  description VARCHAR(500) NOT NULL DEFAULT '',
  PRIMARY KEY (community_id, position),
  CONSTRAINT fk_community_brands_community FOREIGN KEY (community_id)
    REFERENCES communities (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- 结对共建: an organization paired with an enterprise, village or other partner. Current while
-- end_date is NULL or not yet passed.
CREATE TABLE IF NOT EXISTS pairings (
  id BIGINT NOT NULL,
  organization_id BIGINT NOT NULL,
  partner_display_name VARCHAR(100) NOT NULL,
  partner_kind VARCHAR(32) CHARACTER SET ascii NOT NULL,
  partner_contact VARCHAR(100) NOT NULL DEFAULT '',
  start_date DATE NOT NULL,
  end_date DATE NULL,
  note VARCHAR(200) NOT NULL DEFAULT '',
  version BIGINT NOT NULL,
  request_id VARCHAR(64) CHARACTER SET ascii NULL,
  create_time_us BIGINT NOT NULL,
  update_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_pairings_request_id (request_id),
  KEY idx_pairings_organization (organization_id, id),
  CONSTRAINT fk_pairings_organization FOREIGN KEY (organization_id) REFERENCES organizations (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- 进驻社区: an organization stationed in a residential community.
CREATE TABLE IF NOT EXISTS stations (
  id BIGINT NOT NULL,
  organization_id BIGINT NOT NULL,
  residential_community VARCHAR(100) NOT NULL,
  start_date DATE NOT NULL,
  end_date DATE NULL,
  note VARCHAR(200) NOT NULL DEFAULT '',
  version BIGINT NOT NULL,
  request_id VARCHAR(64) CHARACTER SET ascii NULL,
  create_time_us BIGINT NOT NULL,
  update_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_stations_request_id (request_id),
  KEY idx_stations_organization (organization_id, id),
  CONSTRAINT fk_stations_organization FOREIGN KEY (organization_id) REFERENCES organizations (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
