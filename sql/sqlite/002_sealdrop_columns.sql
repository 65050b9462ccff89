-- sealdrop's additions: key type and separate X25519 key, per-inbox usage
-- counters (the caps are checked against these, never by counting rows),
-- the caller a challenge was issued to, and the indexes every query uses.
ALTER TABLE clients ADD COLUMN key_type TEXT NOT NULL DEFAULT 'ed25519';
ALTER TABLE clients ADD COLUMN box_public_key TEXT;
ALTER TABLE clients ADD COLUMN msg_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN msg_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE challenges ADD COLUMN caller TEXT NOT NULL DEFAULT '';
UPDATE clients SET
  msg_count = (SELECT COUNT(*) FROM messages m WHERE m.link_token = clients.link_token),
  msg_bytes = (SELECT COALESCE(SUM(LENGTH(m.encrypted_message) + COALESCE(LENGTH(m.metadata), 0)), 0)
               FROM messages m WHERE m.link_token = clients.link_token);
CREATE INDEX IF NOT EXISTS messages_link_seen_id ON messages (link_token, seen, id);
CREATE INDEX IF NOT EXISTS messages_link_id ON messages (link_token, id);
CREATE INDEX IF NOT EXISTS messages_created ON messages (created_at);
CREATE INDEX IF NOT EXISTS challenges_link_nonce ON challenges (link_token, challenge_nonce);
CREATE INDEX IF NOT EXISTS challenges_link_caller ON challenges (link_token, caller, expires_at);
CREATE INDEX IF NOT EXISTS challenges_expires ON challenges (expires_at);
