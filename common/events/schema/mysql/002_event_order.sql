-- Order per aggregate: every event gets the next sequence number of its key (the aggregate it is
-- about) in the writer's transaction, and each consumer keeps the last sequence it applied per
-- key, so event n+1 of an aggregate is never applied before event n (events.h: ApplyInOrder).
ALTER TABLE outbox ADD COLUMN sequence BIGINT NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS event_sequences (
  event_key VARCHAR(255) CHARACTER SET ascii NOT NULL,
  last_sequence BIGINT NOT NULL,
  PRIMARY KEY (event_key)
) ENGINE = InnoDB;
CREATE TABLE IF NOT EXISTS consumer_positions (
  consumer VARCHAR(128) CHARACTER SET ascii NOT NULL,
  event_key VARCHAR(255) CHARACTER SET ascii NOT NULL,
  applied_sequence BIGINT NOT NULL,
  updated_us BIGINT NOT NULL,
  PRIMARY KEY (consumer, event_key)
) ENGINE = InnoDB;
