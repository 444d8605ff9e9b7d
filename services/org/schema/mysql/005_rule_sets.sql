-- Versioned rule sets (Step 4). Version 0, the national default, ships with the service and is
-- not stored; rows here are the work committee's versions, each in force from its date. The
-- body is the rule set's proto JSON, readable by people auditing the database.
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
