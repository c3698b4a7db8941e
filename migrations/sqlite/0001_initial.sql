-- NanoChat storage schema, version 1 (SQLite).
--
-- Portability rules (a PostgreSQL backend follows): standard SQL types only;
-- timestamps are INTEGER unix milliseconds (BIGINT in PostgreSQL); UUIDs are
-- TEXT, lowercase hyphenated; binary values are BLOB (BYTEA in PostgreSQL).
-- The server stores ciphertext, wrapped keys, digests and public keys only.

-- A user is pending (created by the operator, waiting for user.complete)
-- while completed_at IS NULL. token_hash is SHA-256 of the one-time complete
-- token; it is cleared when the user completes.
CREATE TABLE users (
    username           TEXT    NOT NULL PRIMARY KEY,
    display_name       TEXT    NULL,
    public_key         BLOB    NULL,
    token_hash         BLOB    NULL UNIQUE,
    token_expires_at   INTEGER NULL,
    private_key        TEXT    NULL,  -- EncryptedPrivateKey JSON, as the client sent it
    sync_password_hash TEXT    NULL,  -- Argon2id PHC string
    created_at         INTEGER NOT NULL,
    completed_at       INTEGER NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE conversations (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NULL,
    owner      TEXT    NOT NULL REFERENCES users (username),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX conversations_owner ON conversations (owner);

CREATE TABLE members (
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    username        TEXT    NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    joined_at       INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, username)
);

CREATE INDEX members_username ON members (username);

-- cursor is the pagination key: strictly increasing and never reused
-- (AUTOINCREMENT), so a page boundary stays stable while messages are added
-- or deleted. PostgreSQL: cursor BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY.
CREATE TABLE messages (
    cursor            INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT    NOT NULL UNIQUE,
    conversation_id   TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sender            TEXT    NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at        INTEGER NOT NULL,
    edited_at         INTEGER NULL,
    content_iv        BLOB    NOT NULL,
    content           BLOB    NOT NULL,
    signature         BLOB    NOT NULL,
    attachment_iv     BLOB    NULL,
    attachment        BLOB    NULL,
    attachment_digest BLOB    NULL,
    attachment_size   INTEGER NULL
);

CREATE INDEX messages_conversation_cursor ON messages (conversation_id, cursor);
CREATE INDEX messages_sender ON messages (sender);

-- One wrapped content key per recipient. username is deliberately NOT a
-- foreign key: the signed recipient list must stay intact even after a
-- recipient is deleted. wrapped_key becomes NULL when its holder is
-- deleted or reset, so a later user of the same name never inherits it.
CREATE TABLE message_keys (
    message_id  TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    username    TEXT NOT NULL,
    wrapped_key BLOB NULL,
    key_digest  BLOB NOT NULL,
    PRIMARY KEY (message_id, username)
);

CREATE INDEX message_keys_username ON message_keys (username);

-- Replay guard: request ids accepted per user, kept until expires_at.
CREATE TABLE seen_requests (
    username   TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (username, request_id)
);

CREATE INDEX seen_requests_expires_at ON seen_requests (expires_at);
