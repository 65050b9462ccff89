-- A send enqueues a webhook ping only when the inbox has a webhook, and
-- learns that from the inbox row it updates anyway (see sql/mysql/008):
-- has_webhook is 1 exactly while the inbox has a webhooks row, written by
-- the transactions that set or clear a webhook.
ALTER TABLE clients ADD COLUMN has_webhook INTEGER NOT NULL DEFAULT 0;
UPDATE clients SET has_webhook = 1 WHERE link_token IN (SELECT link_token FROM webhooks);
