-- Exactly-once sends (api.yml, "Message content", retries); see
-- migrations/sqlite/0005 for the reasoning.
ALTER TABLE messages ADD COLUMN create_digest BYTEA NULL;

CREATE TABLE deleted_messages (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    deleted_at      BIGINT NOT NULL
);

CREATE INDEX deleted_messages_conversation ON deleted_messages (conversation_id);
