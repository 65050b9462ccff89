-- Webhooks (docs/API.md, POST /webhook): one notification URL per inbox,
-- and a durable outbox of content-free pings. The outbox holds at most one
-- pending ping per inbox (coalescing): a send finds the inbox's row and
-- only marks it dirty. A sender claims a due row for claim_until with a
-- random claim_token by a conditional UPDATE (two nodes of a cluster
-- claiming at once conflict at certification: one wins), and a claim left
-- by a killed process expires and the ping is sent again. Times are
-- BIGINT Unix seconds (the outbox does arithmetic on them). last_error is
-- an error class (e.g. "timeout", "http_status"), never a reply's body.
CREATE TABLE IF NOT EXISTS webhooks (
    link_token VARCHAR(128) NOT NULL PRIMARY KEY,
    url VARCHAR(2048) NOT NULL,
    kind VARCHAR(16) NOT NULL DEFAULT 'generic',
    state VARCHAR(16) NOT NULL DEFAULT 'ok',
    last_error VARCHAR(32) NULL,
    failed_at BIGINT NULL,
    last_sent_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS webhook_outbox (
    link_token VARCHAR(128) NOT NULL PRIMARY KEY,
    due_at BIGINT NOT NULL,
    attempts INT NOT NULL DEFAULT 0,
    claim_token VARCHAR(64) NULL,
    claim_until BIGINT NOT NULL DEFAULT 0,
    dirty TINYINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    KEY webhook_outbox_due (due_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
