-- Scale-out on a Galera cluster. A transaction that must be serialised on
-- one inbox (issuing a challenge against the per-caller cap, opening a
-- message request) bumps the inbox's row_version: a write, which a cluster
-- certifies against every other write of that row on any node (erasing the
-- inbox deletes the row, which conflicts the same way). A row lock (SELECT ... FOR UPDATE) holds on one node only.
-- The statement stands alone and can run again.
ALTER TABLE clients ADD COLUMN row_version BIGINT NOT NULL DEFAULT 0;
