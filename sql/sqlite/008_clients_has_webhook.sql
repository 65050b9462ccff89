-- has_webhook is 1 exactly while the inbox has a webhooks row, written by
-- the transactions that set or clear a webhook. MySQL's sends read it to
-- skip the outbox statement (see sql/mysql/008); SQLite runs that
-- statement in process anyway, and keeps the column so both schemas and
-- the store's writes stay alike.
ALTER TABLE clients ADD COLUMN has_webhook INTEGER NOT NULL DEFAULT 0;
UPDATE clients SET has_webhook = 1 WHERE link_token IN (SELECT link_token FROM webhooks);
