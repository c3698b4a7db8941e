-- Conversation names become end-to-end encrypted (api.yml, "Conversation
-- names"). The server cannot seal the plain names it holds for the members,
-- so they are dropped: those conversations become unnamed. Store::open
-- counts them before this runs and logs how many.

ALTER TABLE conversations DROP COLUMN name;

-- Every set, re-seal or removal of the name increments name_revision; a new
-- sealed name must carry name_revision + 1 (signed by its sealer).
ALTER TABLE conversations ADD COLUMN name_revision INTEGER NOT NULL DEFAULT 0;

-- The current sealed name, one row per conversation that has one. The
-- ciphertext and signature are stored as the sealer sent them.
-- sealer_key_digest is SHA-256 of the sealer's public key at sealing time,
-- so the server can tell readers when the name no longer verifies.
CREATE TABLE conversation_names (
    conversation_id   TEXT    NOT NULL PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    revision          INTEGER NOT NULL,
    iv                BLOB    NOT NULL,
    ciphertext        BLOB    NOT NULL,
    signature         BLOB    NOT NULL,
    sealed_by         TEXT    NOT NULL,
    sealed_at         INTEGER NOT NULL,
    sealer_key_digest BLOB    NOT NULL
);

-- The name key wrapped for each recipient of the current name. As for
-- message_keys, username is not a foreign key (the signed recipient list
-- stays whole), and wrapped_key becomes NULL when its holder leaves, is
-- reset or is deleted. recipient_key_digest is SHA-256 of the recipient's
-- public key at sealing time: a member whose key has changed since needs
-- the name re-sealed.
CREATE TABLE conversation_name_keys (
    conversation_id      TEXT NOT NULL REFERENCES conversation_names (conversation_id) ON DELETE CASCADE,
    username             TEXT NOT NULL,
    wrapped_key          BLOB NULL,
    key_digest           BLOB NOT NULL,
    recipient_key_digest BLOB NOT NULL,
    PRIMARY KEY (conversation_id, username)
);

CREATE INDEX conversation_name_keys_username ON conversation_name_keys (username);
