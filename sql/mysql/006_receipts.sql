-- Receipts (docs/RECEIPTS.md), as sql/sqlite/006 says: receipts found by
-- receipt_id (the hash the sender's client derives from its secret, 43
-- characters of base64url compared as bytes; link tokens here compare as
-- bytes too, and thread ids, being message ids, find a thread alone: a
-- column of PyCrypt's tables is never compared with one of these, whose
-- collations differ), a status row per message of a
-- thread that outlives the message (0 stored, 1 read, 2 deleted, 3
-- expired; released is what receipts show), replies, and the one row that
-- says when the next release may run, which every instance on the database
-- (every node of a cluster) claims with a write before it releases. Writes
-- to one inbox's receipts serialise by the inbox's row_version (005).
-- messages.thread_id is NULL outside threads; PyCrypt never names it.
-- Every statement stands alone and can run again.
ALTER TABLE messages ADD COLUMN thread_id BIGINT NULL;
CREATE TABLE IF NOT EXISTS receipts (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  receipt_id CHAR(43) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  link_token VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  thread_id BIGINT NOT NULL,
  replies INT NOT NULL DEFAULT 0,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  last_activity TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  released_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY receipts_receipt_id (receipt_id),
  KEY receipts_thread (thread_id),
  KEY receipts_link (link_token),
  KEY receipts_activity (last_activity)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS receipt_statuses (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  message_id BIGINT NOT NULL,
  receipt BIGINT NOT NULL,
  status TINYINT NOT NULL DEFAULT 0,
  released TINYINT NOT NULL DEFAULT 0,
  pending TINYINT NOT NULL DEFAULT 0,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY receipt_statuses_message (message_id),
  KEY receipt_statuses_receipt (receipt, message_id),
  KEY receipt_statuses_pending (pending, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS receipt_replies (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  receipt BIGINT NOT NULL,
  link_token VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  encrypted_reply MEDIUMTEXT NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY receipt_replies_receipt (receipt, id),
  KEY receipt_replies_link (link_token)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS receipt_release (
  id INT PRIMARY KEY,
  next_at BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT IGNORE INTO receipt_release (id, next_at) VALUES (1, 0);
