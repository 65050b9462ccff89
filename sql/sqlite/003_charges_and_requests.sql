-- Exact accounting: what /send charged is kept with the row and exactly
-- that is given back (002 counted characters, not bytes, so counters are
-- computed again here). size_bytes is PyCrypt's column (the decoded
-- ciphertext length); message_requests is PyCrypt's permission table, with
-- sealdrop's verified and caller.
ALTER TABLE messages ADD COLUMN size_bytes INTEGER;
ALTER TABLE messages ADD COLUMN charged INTEGER;
CREATE TABLE IF NOT EXISTS message_requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  from_link_token TEXT NOT NULL,
  to_link_token TEXT NOT NULL,
  from_nickname TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  verified INTEGER NOT NULL DEFAULT 0,
  caller TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS message_requests_from_to ON message_requests (from_link_token, to_link_token);
CREATE INDEX IF NOT EXISTS message_requests_to_status ON message_requests (to_link_token, status, id);
CREATE INDEX IF NOT EXISTS message_requests_caller ON message_requests (caller, status);
UPDATE messages SET size_bytes = (LENGTH(encrypted_message) * 3) / 4 -
  (LENGTH(encrypted_message) - LENGTH(RTRIM(encrypted_message, '=')))
  WHERE size_bytes IS NULL;
UPDATE messages SET charged = LENGTH(CAST(encrypted_message AS BLOB)) +
  COALESCE(LENGTH(CAST(metadata AS BLOB)), 0) WHERE charged IS NULL;
UPDATE clients SET
  msg_count = (SELECT COUNT(*) FROM messages m WHERE m.link_token = clients.link_token),
  msg_bytes = (SELECT COALESCE(SUM(m.charged), 0) FROM messages m WHERE m.link_token = clients.link_token);
