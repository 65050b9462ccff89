-- sealdrop's additions, the same as for SQLite: key type and X25519 key,
-- per-inbox usage counters, the caller a challenge was issued to, and an
-- index for every query. One column or index per statement: a database
-- may already have some of them (PyCrypt itself creates key_type), and the
-- runner counts one that exists as added, so each statement stands alone.
ALTER TABLE clients ADD COLUMN key_type VARCHAR(16) NOT NULL DEFAULT 'ed25519';
ALTER TABLE clients ADD COLUMN box_public_key VARCHAR(64) NULL;
ALTER TABLE clients ADD COLUMN msg_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN msg_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE challenges ADD COLUMN caller VARCHAR(96) NOT NULL DEFAULT '';
CREATE INDEX messages_link_seen_id ON messages (link_token, seen, id);
CREATE INDEX messages_link_id ON messages (link_token, id);
CREATE INDEX messages_created ON messages (created_at);
CREATE INDEX challenges_link_nonce ON challenges (link_token, challenge_nonce);
CREATE INDEX challenges_link_caller ON challenges (link_token, caller, expires_at);
CREATE INDEX challenges_expires ON challenges (expires_at);
