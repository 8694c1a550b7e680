-- Facts about this database itself, such as the dualwrite version that created it.
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
