-- Outbox (events written with the change that caused them) and processed events (what each
-- consumer has applied). Payloads are base64 text so the SQL is the same on SQLite.
CREATE TABLE IF NOT EXISTS outbox (
  id BIGINT NOT NULL,
  stream VARCHAR(128) CHARACTER SET ascii NOT NULL,
  type VARCHAR(255) CHARACTER SET ascii NOT NULL,
  event_key VARCHAR(255) NOT NULL,
  payload LONGTEXT CHARACTER SET ascii NOT NULL,
  occurred_us BIGINT NOT NULL,
  published_us BIGINT NULL,
  PRIMARY KEY (id),
  KEY idx_outbox_pending (published_us, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS processed_events (
  consumer VARCHAR(128) CHARACTER SET ascii NOT NULL,
  event_id BIGINT NOT NULL,
  processed_us BIGINT NOT NULL,
  PRIMARY KEY (consumer, event_id)
) ENGINE = InnoDB;
