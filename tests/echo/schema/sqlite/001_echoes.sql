-- SQLite dialect of schema/mysql/001_echoes.sql.
CREATE TABLE echoes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subject TEXT NOT NULL,
  request_id TEXT NOT NULL,
  message TEXT NOT NULL
);
