-- Changes queued for a map while it is paused, initializing or resuming, in commit order.
CREATE TABLE queue (
    seq BIGSERIAL PRIMARY KEY,
    map_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX queue_by_map ON queue (map_id, seq);
CREATE INDEX queue_by_key ON queue (map_id, key, seq);

-- Queued changes that failed to apply (or were set aside by skip-to-live), kept until retried.
CREATE TABLE catch_up_errors (
    id BIGSERIAL PRIMARY KEY,
    map_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    key TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    body TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX catch_up_errors_by_map ON catch_up_errors (map_id, id);

-- Initial-sync executions: their state, progress and counts as JSON, checkpointed chunk by chunk.
CREATE TABLE executions (
    id BIGSERIAL PRIMARY KEY,
    map_id BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX executions_by_map ON executions (map_id, id);

-- Every row an initial sync could not write.
CREATE TABLE execution_errors (
    id BIGSERIAL PRIMARY KEY,
    execution_id BIGINT NOT NULL,
    side TEXT NOT NULL,
    key TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX execution_errors_by_execution ON execution_errors (execution_id, id);

-- Self-references set aside by an initial sync's first pass, written by its second.
CREATE TABLE execution_deferred (
    id BIGSERIAL PRIMARY KEY,
    execution_id BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX execution_deferred_by_execution ON execution_deferred (execution_id, id);
