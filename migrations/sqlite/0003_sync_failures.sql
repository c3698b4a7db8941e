-- Failed user.sync attempts per username, in the database so that every
-- process sharing it counts the same guesses (a PostgreSQL deployment runs
-- several instances; the per-address allowance stays per process). Not a
-- foreign key: attempts on unknown usernames count too, so that the answer
-- never tells whether a user exists. Rows older than the window are
-- deleted as attempts come in.
CREATE TABLE sync_failures (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    username     TEXT    NOT NULL,
    attempted_at INTEGER NOT NULL
);
CREATE INDEX sync_failures_username ON sync_failures (username, attempted_at);
CREATE INDEX sync_failures_attempted_at ON sync_failures (attempted_at);
