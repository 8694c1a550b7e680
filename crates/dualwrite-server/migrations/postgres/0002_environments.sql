-- Named documents of the runtime: the schema, the integration keys, the alert rules.
CREATE TABLE documents (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

-- Table maps: the package map shape as JSON, with the runtime's status beside it.
CREATE TABLE maps (
    id BIGSERIAL PRIMARY KEY,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'not_running',
    updated_at TIMESTAMPTZ NOT NULL
);

-- Both environments' rows, as JSON objects.
CREATE TABLE env_rows (
    id BIGSERIAL PRIMARY KEY,
    side TEXT NOT NULL,
    tbl TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX env_rows_by_table ON env_rows (side, tbl, id);

-- Every unique key of every row (finops entity key, dataverse id and alternate keys), normalised the
-- way the source systems compare them; the primary key enforces uniqueness.
CREATE TABLE env_row_keys (
    side TEXT NOT NULL,
    tbl TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    row_id BIGINT NOT NULL REFERENCES env_rows (id) ON DELETE CASCADE,
    PRIMARY KEY (side, tbl, name, value)
);
CREATE INDEX env_row_keys_by_row ON env_row_keys (row_id);

-- Whether each environment takes writes (maintenance marks one unavailable).
CREATE TABLE environments (
    side TEXT PRIMARY KEY,
    available BOOLEAN NOT NULL
);

-- The audit trail, in commit order.
CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL,
    map_id BIGINT,
    body TEXT NOT NULL
);
CREATE INDEX events_by_map ON events (map_id, seq);
