-- The three tables as PyCrypt created them. On a PyCrypt database these
-- are no-ops; on a new database they create the same shape.
CREATE TABLE IF NOT EXISTS clients (
  id INT AUTO_INCREMENT PRIMARY KEY,
  link_token VARCHAR(128) UNIQUE NOT NULL,
  public_key TEXT NOT NULL,
  public_key_hash CHAR(64) NOT NULL,
  display_name VARCHAR(255),
  fetch_token_hash CHAR(128) NOT NULL,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS messages (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  link_token VARCHAR(128) NOT NULL,
  encrypted_message LONGTEXT NOT NULL,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  seen BOOLEAN DEFAULT FALSE,
  metadata JSON NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS challenges (
  id INT AUTO_INCREMENT PRIMARY KEY,
  link_token VARCHAR(128) NOT NULL,
  challenge_nonce VARCHAR(255) NOT NULL,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  expires_at TIMESTAMP NOT NULL,
  used BOOLEAN DEFAULT FALSE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
