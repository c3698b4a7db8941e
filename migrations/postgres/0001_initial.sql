-- NanoChat schema for PostgreSQL: the same tables, columns and constraints
-- as migrations/sqlite/ after all its migrations (0001 and 0002), in
-- PostgreSQL's types. The queries are shared, so the two must agree.
--
-- The server stores ciphertext, wrapped keys, digests and public keys only.
-- Times are unix milliseconds (BIGINT), UUIDs lowercase hyphenated TEXT,
-- binary values BYTEA. Text that the protocol orders by bytes (usernames,
-- ids) uses the "C" collation, so ORDER BY agrees with SQLite's and with
-- the byte order the signed lists use.

CREATE TABLE users (
    username           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    display_name       TEXT    NULL,
    public_key         BYTEA   NULL,
    token_hash         BYTEA   NULL UNIQUE,
    token_expires_at   BIGINT  NULL,
    private_key        TEXT    NULL,  -- EncryptedPrivateKey JSON, as the client sent it
    sync_password_hash TEXT    NULL,  -- Argon2id PHC string
    created_at         BIGINT  NOT NULL,
    completed_at       BIGINT  NULL,
    updated_at         BIGINT  NOT NULL
);

CREATE TABLE conversations (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    owner         TEXT COLLATE "C" NOT NULL REFERENCES users (username),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    name_revision BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX conversations_owner ON conversations (owner);

CREATE TABLE members (
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    username        TEXT COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    joined_at       BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, username)
);
CREATE INDEX members_username ON members (username);

CREATE TABLE messages (
    cursor            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                TEXT COLLATE "C" NOT NULL UNIQUE,
    conversation_id   TEXT COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sender            TEXT COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at        BIGINT NOT NULL,
    edited_at         BIGINT NULL,
    content_iv        BYTEA  NOT NULL,
    content           BYTEA  NOT NULL,
    signature         BYTEA  NOT NULL,
    attachment_iv     BYTEA  NULL,
    attachment        BYTEA  NULL,
    attachment_digest BYTEA  NULL,
    attachment_size   BIGINT NULL
);
CREATE INDEX messages_conversation_cursor ON messages (conversation_id, cursor);
CREATE INDEX messages_sender ON messages (sender);

CREATE TABLE message_keys (
    message_id  TEXT COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    username    TEXT COLLATE "C" NOT NULL,
    wrapped_key BYTEA NULL,
    key_digest  BYTEA NOT NULL,
    PRIMARY KEY (message_id, username)
);
CREATE INDEX message_keys_username ON message_keys (username);

CREATE TABLE seen_requests (
    username   TEXT COLLATE "C" NOT NULL,
    request_id TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (username, request_id)
);
CREATE INDEX seen_requests_expires_at ON seen_requests (expires_at);

CREATE TABLE conversation_names (
    conversation_id   TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    revision          BIGINT NOT NULL,
    iv                BYTEA  NOT NULL,
    ciphertext        BYTEA  NOT NULL,
    signature         BYTEA  NOT NULL,
    sealed_by         TEXT COLLATE "C" NOT NULL,
    sealed_at         BIGINT NOT NULL,
    sealer_key_digest BYTEA  NOT NULL
);

CREATE TABLE conversation_name_keys (
    conversation_id      TEXT COLLATE "C" NOT NULL REFERENCES conversation_names (conversation_id) ON DELETE CASCADE,
    username             TEXT COLLATE "C" NOT NULL,
    wrapped_key          BYTEA NULL,
    key_digest           BYTEA NOT NULL,
    recipient_key_digest BYTEA NOT NULL,
    PRIMARY KEY (conversation_id, username)
);
CREATE INDEX conversation_name_keys_username ON conversation_name_keys (username);
