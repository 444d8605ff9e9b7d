-- SQLite dialect of schema/mysql/001_events.sql.
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER NOT NULL PRIMARY KEY,
  stream TEXT NOT NULL,
  type TEXT NOT NULL,
  event_key TEXT NOT NULL,
  payload TEXT NOT NULL,
  occurred_us INTEGER NOT NULL,
  published_us INTEGER NULL
);
CREATE INDEX IF NOT EXISTS idx_outbox_pending ON outbox (published_us, id);
CREATE TABLE IF NOT EXISTS processed_events (
  consumer TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  processed_us INTEGER NOT NULL,
  PRIMARY KEY (consumer, event_id)
);
