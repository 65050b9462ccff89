-- Abuse resistance, round 2. A challenge may be issued for one purpose
-- (NULL: PyCrypt's form, which signs the bare challenge); an inbox records
-- the capabilities its owner's client declared at registration (bit 0:
-- destructive operations need purpose-bound signatures); a send may carry
-- the sender's idempotency key, so a retry after a lost reply stores
-- nothing twice. The key compares as bytes (the table's collation would
-- fold case); NULL keys never collide in a UNIQUE index. Each statement
-- stands alone and can run again.
ALTER TABLE challenges ADD COLUMN purpose VARCHAR(24) CHARACTER SET ascii COLLATE ascii_bin NULL;
ALTER TABLE clients ADD COLUMN capabilities INT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN idempotency_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL;
CREATE UNIQUE INDEX messages_idempotency ON messages (link_token, idempotency_key);
