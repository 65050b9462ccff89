-- Exact accounting: what /send charged is kept with the row and exactly
-- that is given back. size_bytes is PyCrypt's column (the decoded
-- ciphertext length), kept filled for PyCrypt. message_requests is
-- PyCrypt's permission table, created as PyCrypt creates it when missing;
-- so are PyCrypt's challenges.client_ip and user_agent (a database at the
-- stage of PyCrypt's README lacks them, and PyCrypt's server names them when
-- it issues a challenge). verified and caller are sealdrop's. Every
-- statement stands alone and can run again (the UPDATEs compute, they never
-- accumulate).
ALTER TABLE messages ADD COLUMN size_bytes INT NULL;
ALTER TABLE messages ADD COLUMN charged BIGINT NULL;
ALTER TABLE challenges ADD COLUMN client_ip VARCHAR(45) NULL;
ALTER TABLE challenges ADD COLUMN user_agent VARCHAR(255) NULL;
CREATE TABLE IF NOT EXISTS message_requests (
  id INT AUTO_INCREMENT PRIMARY KEY,
  from_link_token VARCHAR(128) NOT NULL,
  to_link_token VARCHAR(128) NOT NULL,
  from_nickname VARCHAR(255) NOT NULL,
  status ENUM('pending', 'accepted', 'rejected') DEFAULT 'pending',
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  INDEX idx_to_link_token (to_link_token),
  INDEX idx_from_link_token (from_link_token),
  INDEX idx_status (status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
ALTER TABLE message_requests ADD COLUMN verified TINYINT NOT NULL DEFAULT 0;
ALTER TABLE message_requests ADD COLUMN caller VARCHAR(96) NOT NULL DEFAULT '';
CREATE INDEX message_requests_from_to ON message_requests (from_link_token, to_link_token);
CREATE INDEX message_requests_to_status ON message_requests (to_link_token, status, id);
CREATE INDEX message_requests_caller ON message_requests (caller, status);
UPDATE messages SET size_bytes = FLOOR(LENGTH(encrypted_message) * 3 / 4) -
  (LENGTH(encrypted_message) - LENGTH(TRIM(TRAILING '=' FROM encrypted_message)))
  WHERE size_bytes IS NULL;
UPDATE messages SET charged = OCTET_LENGTH(encrypted_message) + COALESCE(OCTET_LENGTH(metadata), 0)
  WHERE charged IS NULL;
UPDATE clients c SET
  c.msg_count = (SELECT COUNT(*) FROM messages m WHERE m.link_token = c.link_token),
  c.msg_bytes = (SELECT COALESCE(SUM(m.charged), 0) FROM messages m WHERE m.link_token = c.link_token);
