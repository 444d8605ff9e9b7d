-- Party dues (SQLite dialect of schema/mysql/006_dues.sql; same columns, same keys).
CREATE TABLE IF NOT EXISTS dues_declarations (
  member_id INTEGER NOT NULL,
  from_month INTEGER NOT NULL,
  base_fen INTEGER NOT NULL,
  category INTEGER NOT NULL,
  note TEXT NOT NULL,
  declared_by TEXT NOT NULL,
  declare_time_us INTEGER NOT NULL,
  PRIMARY KEY (member_id, from_month)
);

CREATE TABLE IF NOT EXISTS dues_payments (
  id INTEGER NOT NULL PRIMARY KEY,
  member_id INTEGER NOT NULL,
  organization_id INTEGER NOT NULL,
  org_path TEXT NOT NULL,
  amount_fen INTEGER NOT NULL,
  payer TEXT NOT NULL,
  receipt_number TEXT NOT NULL,
  pay_date TEXT NOT NULL,
  batch_id INTEGER NOT NULL,
  request_id TEXT NULL,
  recorded_by TEXT NOT NULL,
  create_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_dues_payments_receipt ON dues_payments (receipt_number);
CREATE UNIQUE INDEX IF NOT EXISTS uk_dues_payments_request_id ON dues_payments (request_id);
CREATE INDEX IF NOT EXISTS idx_dues_payments_member ON dues_payments (member_id, id);
CREATE INDEX IF NOT EXISTS idx_dues_payments_batch ON dues_payments (batch_id);

CREATE TABLE IF NOT EXISTS dues_payment_months (
  member_id INTEGER NOT NULL,
  month INTEGER NOT NULL,
  payment_id INTEGER NOT NULL,
  due_fen INTEGER NOT NULL,
  PRIMARY KEY (member_id, month)
);
CREATE INDEX IF NOT EXISTS idx_dues_payment_months_payment ON dues_payment_months (payment_id);

CREATE TABLE IF NOT EXISTS dues_reductions (
  id INTEGER NOT NULL PRIMARY KEY,
  member_id INTEGER NOT NULL,
  from_month INTEGER NOT NULL,
  to_month INTEGER NOT NULL,
  amount_fen INTEGER NOT NULL,
  reason TEXT NOT NULL,
  approved_by TEXT NOT NULL,
  request_id TEXT NULL,
  create_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_dues_reductions_request_id ON dues_reductions (request_id);
CREATE INDEX IF NOT EXISTS idx_dues_reductions_member ON dues_reductions (member_id, id);

CREATE TABLE IF NOT EXISTS dues_batches (
  id INTEGER NOT NULL PRIMARY KEY,
  organization_id INTEGER NOT NULL,
  org_path TEXT NOT NULL,
  month INTEGER NOT NULL,
  amount_fen INTEGER NOT NULL,
  member_count INTEGER NOT NULL,
  payer TEXT NOT NULL,
  request_id TEXT NULL,
  recorded_by TEXT NOT NULL,
  create_time_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_dues_batches_request_id ON dues_batches (request_id);
CREATE INDEX IF NOT EXISTS idx_dues_batches_org ON dues_batches (organization_id, month);
