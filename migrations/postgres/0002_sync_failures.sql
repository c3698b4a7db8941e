-- Failed user.sync attempts per username (see migrations/sqlite/0003): in
-- the database, so that every instance counts the same guesses.
CREATE TABLE sync_failures (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username     TEXT COLLATE "C" NOT NULL,
    attempted_at BIGINT NOT NULL
);
CREATE INDEX sync_failures_username ON sync_failures (username, attempted_at);
CREATE INDEX sync_failures_attempted_at ON sync_failures (attempted_at);
