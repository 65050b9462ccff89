-- Abuse resistance, round 2. A challenge may be issued for one purpose
-- (NULL: PyCrypt's form, which signs the bare challenge); an inbox records
-- the capabilities its owner's client declared at registration (bit 0:
-- destructive operations need purpose-bound signatures); a send may carry
-- the sender's idempotency key, so a retry after a lost reply stores
-- nothing twice. NULL keys never collide in a UNIQUE index.
ALTER TABLE challenges ADD COLUMN purpose TEXT;
ALTER TABLE clients ADD COLUMN capabilities INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS messages_idempotency ON messages (link_token, idempotency_key);
