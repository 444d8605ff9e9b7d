-- Audit without one hot row (Step 6): sixteen chains instead of one. An entry goes to the
-- chain of its organization (a hash of the last id on its org_path, so one organization's
-- entries stay in one ordered chain), and each chain has its own head row, so writes of
-- different organizations no longer wait for one another. `seq` stays comparable across chains
-- (a writer takes one more than the largest head it sees), `prev_seq` names the entry a row
-- follows in its chain, and `format` 2 marks rows whose hash also covers shard and prev_seq.
-- The single chain written before this migration is chain 1 (its head was row 1): its rows keep
-- format 1 and verify as they did. The heads go in first (safe to re-run); the ALTER is one
-- statement, so a crash cannot leave half of it applied (MySQL DDL is not transactional).
INSERT IGNORE INTO audit_head VALUES
  (0, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (2, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (3, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (4, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (5, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (6, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (7, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (8, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (9, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (10, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (11, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (12, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (13, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (14, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
  (15, 0, REPEAT('0', 64), 0, REPEAT('0', 64));
ALTER TABLE audit_log
  ADD COLUMN shard INT NOT NULL DEFAULT 1,
  ADD COLUMN prev_seq BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN format TINYINT NOT NULL DEFAULT 1,
  DROP PRIMARY KEY,
  ADD PRIMARY KEY (shard, seq),
  ADD KEY idx_audit_order (seq, shard);
