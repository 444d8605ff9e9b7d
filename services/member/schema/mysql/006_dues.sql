-- Party dues (Step 7): declared base incomes, payments with their receipts and the months each
-- covers, approved reductions and exemptions, a branch's month paid in one batch. Months are
-- integers YYYYMM (202607); money is integer fen. A month is paid at most once per member: the
-- primary key of dues_payment_months says so even against two concurrent payments.
CREATE TABLE IF NOT EXISTS dues_declarations (
  member_id BIGINT NOT NULL,
  from_month INT NOT NULL,
  base_fen BIGINT NOT NULL,
  category INT NOT NULL,
  note VARCHAR(800) NOT NULL,
  declared_by VARCHAR(64) CHARACTER SET ascii NOT NULL,
  declare_time_us BIGINT NOT NULL,
  PRIMARY KEY (member_id, from_month)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS dues_payments (
  id BIGINT NOT NULL,
  member_id BIGINT NOT NULL,
  organization_id BIGINT NOT NULL,
  org_path VARCHAR(760) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  amount_fen BIGINT NOT NULL,
  payer VARCHAR(400) NOT NULL,
  receipt_number VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  pay_date DATE NOT NULL,
  batch_id BIGINT NOT NULL,
  request_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NULL,
  recorded_by VARCHAR(64) CHARACTER SET ascii NOT NULL,
  create_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_dues_payments_receipt (receipt_number),
  UNIQUE KEY uk_dues_payments_request_id (request_id),
  KEY idx_dues_payments_member (member_id, id),
  KEY idx_dues_payments_batch (batch_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS dues_payment_months (
  member_id BIGINT NOT NULL,
  month INT NOT NULL,
  payment_id BIGINT NOT NULL,
  due_fen BIGINT NOT NULL,
  PRIMARY KEY (member_id, month),
  KEY idx_dues_payment_months_payment (payment_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS dues_reductions (
  id BIGINT NOT NULL,
  member_id BIGINT NOT NULL,
  from_month INT NOT NULL,
  to_month INT NOT NULL,
  amount_fen BIGINT NOT NULL,
  reason VARCHAR(800) NOT NULL,
  approved_by VARCHAR(64) CHARACTER SET ascii NOT NULL,
  request_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NULL,
  create_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_dues_reductions_request_id (request_id),
  KEY idx_dues_reductions_member (member_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- A branch's month paid in one go: its payments carry batch_id.
CREATE TABLE IF NOT EXISTS dues_batches (
  id BIGINT NOT NULL,
  organization_id BIGINT NOT NULL,
  org_path VARCHAR(760) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  month INT NOT NULL,
  amount_fen BIGINT NOT NULL,
  member_count INT NOT NULL,
  payer VARCHAR(400) NOT NULL,
  request_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NULL,
  recorded_by VARCHAR(64) CHARACTER SET ascii NOT NULL,
  create_time_us BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_dues_batches_request_id (request_id),
  KEY idx_dues_batches_org (organization_id, month)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
