-- Events crossing instances. Every instance delivers what its sockets hear
-- from here: a change commits, then its event is recorded under the
-- conversation's advisory lock with the conversation's next seq and
-- announced with NOTIFY carrying the row id; instances read the row, and
-- re-read recent rows after their listener reconnects. Rows are kept only
-- minutes (a listener's reconnect window); seqs are kept for good, so a
-- conversation's order never restarts.
CREATE TABLE events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL for events about a user rather than one conversation.
    conversation_id TEXT COLLATE "C",
    seq             BIGINT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX events_by_conversation ON events (conversation_id, seq);
CREATE INDEX events_by_time ON events (created_at);

CREATE TABLE event_seqs (
    conversation_id TEXT COLLATE "C" PRIMARY KEY,
    seq             BIGINT NOT NULL
);
