-- Receipts (docs/RECEIPTS.md). A receipt is found by receipt_id, the hash
-- the sender's client derives from its secret; it opens a thread whose id is
-- its first message's. Each message of a thread has a status row that
-- outlives the message (so a receipt can say deleted or expired): status is
-- the true one (0 stored, 1 read, 2 deleted, 3 expired), released what the
-- receipt shows, copied from status for every pending row at once by the
-- release (receipt_release.next_at says when it may run next, for every
-- instance on the database). Replies are sealed to the sender's reply key
-- and stored under the receipt. messages.thread_id is NULL outside threads.
ALTER TABLE messages ADD COLUMN thread_id INTEGER;
CREATE TABLE IF NOT EXISTS receipts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  receipt_id TEXT NOT NULL UNIQUE,
  link_token TEXT NOT NULL,
  thread_id INTEGER NOT NULL,
  replies INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_activity INTEGER NOT NULL,
  released_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS receipts_thread ON receipts (thread_id);
CREATE INDEX IF NOT EXISTS receipts_link ON receipts (link_token);
CREATE INDEX IF NOT EXISTS receipts_activity ON receipts (last_activity);
CREATE TABLE IF NOT EXISTS receipt_statuses (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id INTEGER NOT NULL UNIQUE,
  receipt INTEGER NOT NULL,
  status INTEGER NOT NULL DEFAULT 0,
  released INTEGER NOT NULL DEFAULT 0,
  pending INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS receipt_statuses_receipt ON receipt_statuses (receipt, message_id);
CREATE INDEX IF NOT EXISTS receipt_statuses_pending ON receipt_statuses (pending, id);
CREATE TABLE IF NOT EXISTS receipt_replies (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  receipt INTEGER NOT NULL,
  link_token TEXT NOT NULL,
  encrypted_reply TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS receipt_replies_receipt ON receipt_replies (receipt, id);
CREATE INDEX IF NOT EXISTS receipt_replies_link ON receipt_replies (link_token);
CREATE TABLE IF NOT EXISTS receipt_release (
  id INTEGER PRIMARY KEY,
  next_at INTEGER NOT NULL
);
INSERT OR IGNORE INTO receipt_release (id, next_at) VALUES (1, 0);
