-- The fingerprint of the server key this database last served with (one
-- row): `nanochat serve` refuses to start with another key, or to generate
-- a new one, unless the operator passes --replace-server-key.
CREATE TABLE server_key (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT    NOT NULL,
    recorded_at BIGINT  NOT NULL
);
