-- Key history (api.yml, "Key history"); see migrations/sqlite/0004 for
-- the reasoning. Existing users start their history with their current key.
CREATE TABLE user_keys (
    username             TEXT COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    key_index            BIGINT NOT NULL,
    public_key           BYTEA  NOT NULL,
    since                BIGINT NOT NULL,
    until                BIGINT NULL,
    succession_signature BYTEA  NULL,
    public_key_signature BYTEA  NULL,
    PRIMARY KEY (username, key_index)
);

ALTER TABLE users ADD COLUMN key_index BIGINT NULL;

INSERT INTO user_keys (username, key_index, public_key, since)
    SELECT username, 0, public_key, COALESCE(completed_at, updated_at)
    FROM users WHERE public_key IS NOT NULL;
UPDATE users SET key_index = 0 WHERE public_key IS NOT NULL;

ALTER TABLE messages ADD COLUMN sender_key_index BIGINT NULL;
ALTER TABLE messages ADD COLUMN signature_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE message_keys ADD COLUMN key_index BIGINT NULL;
ALTER TABLE conversation_names ADD COLUMN sealer_key_index BIGINT NULL;
ALTER TABLE conversation_names ADD COLUMN signature_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE conversation_name_keys ADD COLUMN key_index BIGINT NULL;

-- PostgreSQL instances learn of key changes through NOTIFY
-- (nanochat_key_changes), so the key_changes table of SQLite has no
-- counterpart here.
