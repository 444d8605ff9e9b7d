-- SQLite dialect of schema/mysql/002_event_order.sql.
ALTER TABLE outbox ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS event_sequences (
  event_key TEXT NOT NULL PRIMARY KEY,
  last_sequence INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS consumer_positions (
  consumer TEXT NOT NULL,
  event_key TEXT NOT NULL,
  applied_sequence INTEGER NOT NULL,
  updated_us INTEGER NOT NULL,
  PRIMARY KEY (consumer, event_key)
);
