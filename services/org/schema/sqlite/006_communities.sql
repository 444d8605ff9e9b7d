-- SQLite dialect of schema/mysql/006_communities.sql: same tables, columns and keys. NOCASE on
-- communities.display_name matches MySQL's case-insensitive collation for uniqueness (per scope
-- organization).
CREATE TABLE IF NOT EXISTS communities (
  id INTEGER NOT NULL PRIMARY KEY,
  display_name TEXT NOT NULL COLLATE NOCASE,
  scope_org_id INTEGER NOT NULL REFERENCES organizations (id),
  liaison_display_name TEXT NOT NULL DEFAULT '',
  liaison_title TEXT NOT NULL DEFAULT '',
  liaison_member TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL,
  request_id TEXT NULL,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_communities_scope_display_name
  ON communities (scope_org_id, display_name);
CREATE UNIQUE INDEX IF NOT EXISTS uk_communities_request_id ON communities (request_id);
CREATE INDEX IF NOT EXISTS idx_communities_scope ON communities (scope_org_id, id);

CREATE TABLE IF NOT EXISTS community_organizations (
  community_id INTEGER NOT NULL REFERENCES communities (id),
  organization_id INTEGER NOT NULL REFERENCES organizations (id),
  role TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (community_id, position)
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_community_organizations_organization
  ON community_organizations (organization_id);

CREATE TABLE IF NOT EXISTS community_partners (
  community_id INTEGER NOT NULL REFERENCES communities (id),
  position INTEGER NOT NULL,
  display_name TEXT NOT NULL,
  kind TEXT NOT NULL,
  contact TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (community_id, position)
);

CREATE TABLE IF NOT EXISTS community_mechanisms (
  community_id INTEGER NOT NULL REFERENCES communities (id),
  mechanism TEXT NOT NULL,
  PRIMARY KEY (community_id, mechanism)
);

CREATE TABLE IF NOT EXISTS community_brands (
  community_id INTEGER NOT NULL REFERENCES communities (id),
  position INTEGER NOT NULL,
  display_name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (community_id, position)
);

CREATE TABLE IF NOT EXISTS pairings (
  id INTEGER NOT NULL PRIMARY KEY,
  organization_id INTEGER NOT NULL REFERENCES organizations (id),
  partner_display_name TEXT NOT NULL,
  partner_kind TEXT NOT NULL,
  partner_contact TEXT NOT NULL DEFAULT '',
  start_date TEXT NOT NULL,
  end_date TEXT NULL,
  note TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL,
  request_id TEXT NULL,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_pairings_request_id ON pairings (request_id);
CREATE INDEX IF NOT EXISTS idx_pairings_organization ON pairings (organization_id, id);

CREATE TABLE IF NOT EXISTS stations (
  id INTEGER NOT NULL PRIMARY KEY,
  organization_id INTEGER NOT NULL REFERENCES organizations (id),
  residential_community TEXT NOT NULL,
  start_date TEXT NOT NULL,
  end_date TEXT NULL,
  note TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL,
  request_id TEXT NULL,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_stations_request_id ON stations (request_id);
CREATE INDEX IF NOT EXISTS idx_stations_organization ON stations (organization_id, id);
