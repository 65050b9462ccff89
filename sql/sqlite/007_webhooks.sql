-- Webhooks (docs/API.md, POST /webhook): one notification URL per inbox,
-- and a durable outbox of content-free pings. The outbox holds at most one
-- pending ping per inbox (coalescing): a send finds the inbox's row and
-- only marks it dirty. A sender claims a due row for claim_until with a
-- random claim_token, so two instances never send one ping at once, and a
-- claim left by a killed process expires and the ping is sent again.
-- Times are INTEGER Unix seconds. last_error is an error class (e.g.
-- "timeout", "http_status"), never a reply's body.
CREATE TABLE IF NOT EXISTS webhooks (
    link_token TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'generic',
    state TEXT NOT NULL DEFAULT 'ok',
    last_error TEXT,
    failed_at INTEGER,
    last_sent_at INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_outbox (
    link_token TEXT PRIMARY KEY,
    due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claim_token TEXT,
    claim_until INTEGER NOT NULL DEFAULT 0,
    dirty INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox (due_at);
