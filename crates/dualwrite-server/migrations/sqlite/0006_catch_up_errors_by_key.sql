-- A key's catch-up errors, found by map and key: the oldest one a key's later changes wait behind.
CREATE INDEX catch_up_errors_by_key ON catch_up_errors (map_id, key, seq);
