-- The three tables of the PyCrypt data model. Times are Unix seconds (UTC).
-- AUTOINCREMENT: ids are never reused, so fetch cursors and ack ids can
-- never name a later message after a delete.
CREATE TABLE IF NOT EXISTS clients (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  link_token TEXT NOT NULL UNIQUE,
  public_key TEXT NOT NULL,
  public_key_hash TEXT NOT NULL,
  display_name TEXT,
  fetch_token_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  link_token TEXT NOT NULL,
  encrypted_message TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  seen INTEGER NOT NULL DEFAULT 0,
  metadata TEXT
);
CREATE TABLE IF NOT EXISTS challenges (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  link_token TEXT NOT NULL,
  challenge_nonce TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used INTEGER NOT NULL DEFAULT 0
);
