-- Exactly-once sends (api.yml, "Message content", retries): a repeat of a
-- message.create is recognised by a SHA-256 over what the sender sealed,
-- kept from the create (an edit does not change it), so that the repeat
-- compares 32 bytes instead of every field. NULL for messages stored before
-- this migration, or by bulk imports: a repeat of those is a conflict.
ALTER TABLE messages ADD COLUMN create_digest BLOB NULL;

-- The ids of deleted messages, so that a late repeat of their create
-- cannot store them again. They go with their conversation, whose deletion
-- a repeat cannot undo (it gets not_found).
CREATE TABLE deleted_messages (
    id              TEXT    NOT NULL PRIMARY KEY,
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    deleted_at      INTEGER NOT NULL
);

CREATE INDEX deleted_messages_conversation ON deleted_messages (conversation_id);
