-- Key history (api.yml, "Key history"): every public key a user has had,
-- in order, with the signatures that chain a rotation to its predecessor.
-- Existing users start their history with the key they have now (index 0,
-- a chain start: any earlier keys are gone).
CREATE TABLE user_keys (
    username             TEXT    NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    key_index            INTEGER NOT NULL,
    public_key           BLOB    NOT NULL,
    since                INTEGER NOT NULL,
    until                INTEGER NULL,
    succession_signature BLOB    NULL,  -- by the previous key; NULL for a chain start
    public_key_signature BLOB    NULL,  -- by this key; NULL for a chain start
    PRIMARY KEY (username, key_index)
);

-- The current key's index in the history (NULL while pending).
ALTER TABLE users ADD COLUMN key_index INTEGER NULL;

INSERT INTO user_keys (username, key_index, public_key, since)
    SELECT username, 0, public_key, COALESCE(completed_at, updated_at)
    FROM users WHERE public_key IS NOT NULL;
UPDATE users SET key_index = 0 WHERE public_key IS NOT NULL;

-- Which key signed a message or name, which signed bytes it covers, and
-- which key of the recipient each wrapped key is for. NULL for what was
-- stored before this migration (api.yml: such messages predate the history).
ALTER TABLE messages ADD COLUMN sender_key_index INTEGER NULL;
ALTER TABLE messages ADD COLUMN signature_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE message_keys ADD COLUMN key_index INTEGER NULL;
ALTER TABLE conversation_names ADD COLUMN sealer_key_index INTEGER NULL;
ALTER TABLE conversation_names ADD COLUMN signature_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE conversation_name_keys ADD COLUMN key_index INTEGER NULL;

-- Every key change (rotation, completion, reset, deletion), so that the
-- serving process notices changes the operator's command line made in the
-- same SQLite file within a second and ends those users' sessions
-- (PostgreSQL announces them with NOTIFY instead). Rows older than a minute
-- are deleted as new ones come in.
CREATE TABLE key_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    username   TEXT    NOT NULL,
    changed_at INTEGER NOT NULL
);
