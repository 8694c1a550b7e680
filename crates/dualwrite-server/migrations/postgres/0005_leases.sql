-- Who does a piece of background work (a map's initial sync or catch-up) until when: one owner at a
-- time, renewed by every step it commits, taken over once it expires (by the database's clock).
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
