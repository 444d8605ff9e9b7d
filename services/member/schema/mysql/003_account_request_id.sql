-- Idempotent account creation (AIP-155): the caller-scoped request_id of the create that made
-- the row (auth::IdempotencyKey), unique, NULL for accounts created without one.
ALTER TABLE accounts ADD COLUMN request_id VARCHAR(64) CHARACTER SET ascii NULL;
CREATE UNIQUE INDEX uk_accounts_request_id ON accounts (request_id);
