-- Dissolution and merge (Step 4): a dissolved organization keeps its row and history. One
-- statement, so a crash cannot leave half of it applied (MySQL DDL is not transactional).
ALTER TABLE organizations
  ADD COLUMN dissolved_date DATE NULL,
  ADD COLUMN dissolution_reason VARCHAR(400) NOT NULL DEFAULT '',
  ADD COLUMN merged_into BIGINT NULL;
