-- sealdrop's additions, the same as for SQLite: key type and X25519 key,
-- per-inbox usage counters (computed here for existing rows), the caller a
-- challenge was issued to, and an index for every query.
ALTER TABLE clients
  ADD COLUMN key_type VARCHAR(16) NOT NULL DEFAULT 'ed25519',
  ADD COLUMN box_public_key VARCHAR(64) NULL,
  ADD COLUMN msg_count BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN msg_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE challenges
  ADD COLUMN caller VARCHAR(96) NOT NULL DEFAULT '';
UPDATE clients c SET
  c.msg_count = (SELECT COUNT(*) FROM messages m WHERE m.link_token = c.link_token),
  c.msg_bytes = (SELECT COALESCE(SUM(LENGTH(m.encrypted_message) + COALESCE(LENGTH(m.metadata), 0)), 0)
                 FROM messages m WHERE m.link_token = c.link_token);
CREATE INDEX messages_link_seen_id ON messages (link_token, seen, id);
CREATE INDEX messages_link_id ON messages (link_token, id);
CREATE INDEX messages_created ON messages (created_at);
CREATE INDEX challenges_link_nonce ON challenges (link_token, challenge_nonce);
CREATE INDEX challenges_link_caller ON challenges (link_token, caller, expires_at);
CREATE INDEX challenges_expires ON challenges (expires_at);
