-- A send enqueues a webhook ping only when the inbox has a webhook, and
-- learns that from the inbox row it updates anyway (its counters), not from
-- a statement of its own. has_webhook is 1 exactly while the inbox has a
-- webhooks row: the transactions that set or clear a webhook write it, and
-- they write this row, so a send racing them is serialised by the row lock
-- (on a Galera cluster, by certification of the two writes of the row).
-- Both statements stand alone and can run again. PyCrypt's clients table
-- and sealdrop's webhooks may have different collations (an "illegal mix"
-- for =), so both sides are compared in one, without regard to case as
-- MariaDB matches links anyway: at worst an inbox is flagged that has no
-- webhook, which costs its sends one statement that queues nothing.
ALTER TABLE clients ADD COLUMN has_webhook TINYINT NOT NULL DEFAULT 0;
UPDATE clients SET has_webhook = 1 WHERE CONVERT(link_token USING utf8mb4) COLLATE utf8mb4_general_ci IN (SELECT CONVERT(link_token USING utf8mb4) COLLATE utf8mb4_general_ci FROM webhooks);
