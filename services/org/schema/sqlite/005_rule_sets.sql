-- SQLite dialect of schema/mysql/005_rule_sets.sql.
CREATE TABLE IF NOT EXISTS rule_sets (
  rule_kind TEXT NOT NULL,
  version INTEGER NOT NULL,
  effective_date TEXT NOT NULL,
  body TEXT NOT NULL,
  note TEXT NOT NULL,
  creator TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  PRIMARY KEY (rule_kind, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_rule_sets_effective ON rule_sets (rule_kind, effective_date);
