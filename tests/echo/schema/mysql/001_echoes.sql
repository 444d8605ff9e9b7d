-- Every echo answered: the echo service's one table.
CREATE TABLE echoes (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  subject VARCHAR(64) NOT NULL,
  request_id VARCHAR(128) NOT NULL,
  message VARCHAR(800) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
